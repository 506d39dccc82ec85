import { createContext, useContext } from 'react';

/** The signed-in caller as the UI knows it (from GET /api/weir/v1/auth/session). */
export interface Session {
  user_name: string;
  is_admin: boolean;
  kind: 'user' | 'service_principal';
  csrf_token?: string;
  via: 'cookie' | 'header';
}

/** The session and a way to sign out, for any page. */
export interface SessionContextValue {
  session: Session;
  signOut(): Promise<void>;
}

/** Provided by the shell once the user is signed in. */
export const SessionContext = createContext<SessionContextValue | null>(null);

/** The current session; pages render only inside a signed-in shell. */
export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession is used outside the signed-in shell');
  return value;
}
