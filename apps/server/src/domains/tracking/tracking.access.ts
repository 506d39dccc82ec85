import type { PermissionLevel } from '@weir/contracts';
import { AppError } from '../../platform/errors.ts';
import type { Principal } from '../../platform/http.ts';

/** The slice of identity that tracking needs to check experiment permissions. */
export interface ExperimentAccess {
  levelOn(principal: Principal, objectType: string, objectId: string): Promise<PermissionLevel | null>;
  readableObjectIds(principal: Principal, objectType: string): Promise<Set<string> | null>;
  setObjectAcl(objectType: string, objectId: string, entries: { principalId: number; level: PermissionLevel }[], replace: boolean): Promise<void>;
}

/** The permission object type of MLflow experiments. */
export const EXPERIMENT_OBJECT = 'experiments';
/** The Default experiment is shared: every signed-in user may read and write it, as in a stock MLflow server. */
export const SHARED_EXPERIMENT_ID = '0';

const RANK: Record<PermissionLevel, number> = { CAN_READ: 1, CAN_EDIT: 2, CAN_MANAGE: 3 };

/** Throws PERMISSION_DENIED unless the caller has `need` on the experiment. */
export async function requireExperimentLevel(access: ExperimentAccess, principal: Principal, experimentId: string, need: PermissionLevel): Promise<void> {
  if (principal.isAdmin) return;
  let have = await access.levelOn(principal, EXPERIMENT_OBJECT, experimentId);
  if (experimentId === SHARED_EXPERIMENT_ID && (!have || RANK[have] < RANK.CAN_EDIT)) have = 'CAN_EDIT';
  if (!have || RANK[have] < RANK[need]) {
    const verb = need === 'CAN_READ' ? 'read' : need === 'CAN_EDIT' ? 'edit' : 'manage';
    throw new AppError('PERMISSION_DENIED', `User '${principal.userName}' does not have permission to ${verb} experiment ${experimentId}.`);
  }
}

/** Experiment ids the caller may read (null means all). */
export async function readableExperiments(access: ExperimentAccess, principal: Principal): Promise<Set<string> | null> {
  const ids = await access.readableObjectIds(principal, EXPERIMENT_OBJECT);
  ids?.add(SHARED_EXPERIMENT_ID);
  return ids;
}
