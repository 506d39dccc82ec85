import { z } from 'zod';

/** POST /api/weir/v1/auth/login: a user signs in to the web UI with the password set through SCIM. */
export const WebLogin = z.object({
  username: z.string().min(1).max(256),
  password: z.string().min(1).max(1024),
});

/** What the web UI learns about the signed-in caller (GET /api/weir/v1/auth/session and the login answer). */
export const WebSession = z.object({
  user_name: z.string(),
  is_admin: z.boolean(),
  kind: z.enum(['user', 'service_principal']),
  /** Present for cookie sessions: the value every non-GET request must repeat in `X-CSRF-Token`. */
  csrf_token: z.string().optional(),
  /** How the caller is authenticated: a session cookie or an Authorization header. */
  via: z.enum(['cookie', 'header']),
});
/** The signed-in caller as the web UI sees it. */
export type WebSession = z.infer<typeof WebSession>;
