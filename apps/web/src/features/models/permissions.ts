import { api } from '../../lib/api.ts';
import { useQuery } from '../../lib/use-query.ts';
import { useSession } from '../auth/session.tsx';

/** What the UI knows of the caller's right to change a registered model. */
export type EditRight = 'yes' | 'unknown';

/**
 * Whether the caller can change a model: admins can; managers can read the model's ACL, so a readable ACL also
 * means yes. Anyone else may still hold CAN_EDIT, which the API does not reveal to them, so the answer is
 * "unknown": buttons stay usable and the server's refusal is shown if it comes.
 */
export function useModelEditRight(modelId: string | undefined): EditRight {
  const { session } = useSession();
  const acl = useQuery(
    ['model-acl', modelId ?? ''],
    () => api().get(`/api/2.0/permissions/registered-models/${encodeURIComponent(modelId ?? '')}`),
    !session.is_admin && modelId !== undefined,
  );
  if (session.is_admin) return 'yes';
  return acl.data ? 'yes' : 'unknown';
}
