import type { Principal } from '../../platform/http.ts';
import { APPLICABLE } from './governance.privileges.ts';
import type { Privilege, Securable, SecurableType } from './governance.types.ts';

/**
 * Which children of one container the caller may see, decided before any row is read: all of them, or only those
 * owned by one of `owners` or named (last name part) in `names`. A store can then read just those rows.
 */
export type ChildFilter = { all: true } | { all: false; owners: string[]; names: string[] };

/** What filtered listing needs from governance. */
export interface ListingVisibility {
  visibleWithOwners(principal: Principal, type: SecurableType, fullNames: string[], leafOwners?: Map<string, string>): Promise<Set<string>>;
  /** The caller's view of the `type` children of `parentFullName` (a schema for tables, volumes, functions; a catalog for schemas; '' for catalogs). */
  childFilter(principal: Principal, type: SecurableType, parentFullName: string): Promise<ChildFilter>;
}

/** What one caller holds, as visibility needs it (governance builds this from its in-memory grants). */
export interface VisibilityFacts {
  /** The caller's user name and the names of its groups: what owner columns are matched against. */
  names: ReadonlySet<string>;
  /** Whether the caller holds the privilege on the securable, directly or through a container (not ownership). */
  granted(privilege: Privilege, securable: Securable): boolean;
  /** The privileges the caller's ids hold directly on exactly this securable. */
  heldOn(securable: Securable): Iterable<Privilege>;
  /** Names (last part) of the `type` children of `parentFullName` on which one of the caller's ids directly holds privileges that pass `test`. */
  childrenHeld(type: SecurableType, parentFullName: string, test: (privileges: Iterable<Privilege>) => boolean): string[];
  /** Owners of the securable and its containers, nearest first; undefined when it does not exist. */
  ownersOf(securable: Securable): Promise<string[] | undefined>;
}

/** How one container decides its children's visibility; worked out once per container, not once per child. */
interface ContainerVerdict {
  /** The caller owns the container or one above it: every child is visible. */
  owns: boolean;
  /** The caller may pass through the containers (USE CATALOG and USE SCHEMA, or BROWSE on the catalog). */
  passes: boolean;
  /** A grant on a container reaches children of this type: with `passes`, every child is visible. */
  reachesAll: boolean;
}

/** Whether a privilege held on (a container of) an object of `type` makes the object visible. */
function reaches(privileges: Iterable<Privilege>, type: SecurableType, onTheObjectItself: boolean): boolean {
  const applicable = APPLICABLE[type];
  for (const p of privileges) if (applicable.has(p) || p === 'BROWSE' || (onTheObjectItself && type === 'catalog')) return true;
  return false;
}

const METASTORE: Securable = { type: 'metastore', fullName: 'metastore' };

/** The verdict for the children of `type` inside `parentFullName` ('' for catalogs, whose container is the metastore). */
async function containerVerdict(facts: VisibilityFacts, type: SecurableType, parentFullName: string): Promise<ContainerVerdict> {
  if (type === 'metastore' || type === 'catalog') return { owns: false, passes: true, reachesAll: reaches(facts.heldOn(METASTORE), type, false) };
  const [catalogName = ''] = parentFullName.split('.');
  const catalog: Securable = { type: 'catalog', fullName: catalogName };
  const containers: Securable[] = type === 'schema' ? [catalog, METASTORE] : [{ type: 'schema', fullName: parentFullName }, catalog, METASTORE];
  const parentOwners = await facts.ownersOf(containers[0] as Securable);
  if (parentOwners?.some((o) => facts.names.has(o))) return { owns: true, passes: true, reachesAll: true };
  const browses = facts.granted('BROWSE', catalog);
  const passes = browses || (facts.granted('USE_CATALOG', catalog) && (type === 'schema' || facts.granted('USE_SCHEMA', containers[0] as Securable)));
  return { owns: false, passes, reachesAll: containers.some((c) => reaches(facts.heldOn(c), type, false)) };
}

/**
 * The subset of `fullNames` (all of one type) the caller may see: owning the object or a container of it, or any grant
 * reaching it plus USE on its containers (BROWSE on the catalog standing for both), as Unity Catalog decides it.
 * Containers are judged once; a child costs a map lookup, and an owner lookup only when grants do not already decide.
 */
export async function visibleAmong(facts: VisibilityFacts, type: SecurableType, fullNames: string[], leafOwners?: Map<string, string>): Promise<Set<string>> {
  const verdicts = new Map<string, ContainerVerdict>();
  const out = new Set<string>();
  for (const fullName of fullNames) {
    const parent = type === 'catalog' || type === 'metastore' ? '' : fullName.slice(0, Math.max(0, fullName.lastIndexOf('.')));
    let verdict = verdicts.get(parent);
    if (!verdict) {
      verdict = await containerVerdict(facts, type, parent);
      verdicts.set(parent, verdict);
    }
    if (verdict.owns) {
      out.add(fullName);
      continue;
    }
    if (verdict.passes && (verdict.reachesAll || reaches(facts.heldOn({ type, fullName }), type, true))) {
      out.add(fullName);
      continue;
    }
    const leafOwner = leafOwners?.has(fullName) ? leafOwners.get(fullName) : (await facts.ownersOf({ type, fullName }))?.[0];
    if (leafOwner !== undefined && facts.names.has(leafOwner)) out.add(fullName);
  }
  return out;
}

/** The caller's view of one container's children as a filter a store can apply in its query (see {@link ChildFilter}). */
export async function childFilterOf(facts: VisibilityFacts, type: SecurableType, parentFullName: string): Promise<ChildFilter> {
  const parent = type === 'catalog' || type === 'metastore' ? '' : parentFullName;
  const verdict = await containerVerdict(facts, type, parent);
  if (verdict.owns || (verdict.passes && verdict.reachesAll)) return { all: true };
  const names = verdict.passes ? facts.childrenHeld(type, parent, (privileges) => reaches(privileges, type, true)) : [];
  return { all: false, owners: [...facts.names], names };
}

/** What catalog routes need from governance: filtered listings, the principal named as a new owner, and grant cascades. */
export interface RouteGovernance extends ListingVisibility {
  /** Throws RESOURCE_DOES_NOT_EXIST (404) unless a user, service principal or group has this name. */
  requirePrincipal(name: string): Promise<void>;
  /** Drops the grants of a dropped object (and of everything in a dropped container). */
  forgetSecurable(securable: { type: SecurableType; fullName: string }): Promise<void>;
  /** Moves grants to an object's new name (and its children's). */
  renameSecurable(securable: { type: SecurableType; fullName: string }, newFullName: string): Promise<void>;
}

/** A listed catalog object as the UC wire shows it (every one carries `name` and `owner`). */
interface Listed {
  name: string;
  owner?: string;
  full_name?: string;
}

const BATCH_MIN = 200;

/**
 * One page of a name-ordered Unity Catalog listing holding only what the caller may see. Pages are filled from as
 * many underlying pages as it takes, so a page is short only at the end: a client that stops at a page without
 * `next_page_token` has seen everything it may see. The token stays the last name returned, as the services expect.
 */
export async function visiblePage<T extends Listed>(opts: {
  principal: Principal;
  type: SecurableType;
  visibility: ListingVisibility;
  maxResults: number | undefined;
  pageToken: string | undefined;
  /** Reads one page of the unfiltered listing (`maxResults` undefined = every row after the token). */
  fetch(pageToken: string | undefined, maxResults: number | undefined): Promise<{ items: T[]; next_page_token?: string | undefined }>;
}): Promise<{ items: T[]; next_page_token?: string }> {
  const fullNameOf = (item: T) => item.full_name ?? item.name;
  const keep = async (items: T[]) => {
    const owners = new Map<string, string>();
    for (const item of items) if (item.owner !== undefined) owners.set(fullNameOf(item), item.owner);
    const visible = await opts.visibility.visibleWithOwners(opts.principal, opts.type, items.map(fullNameOf), owners);
    return items.filter((item) => visible.has(fullNameOf(item)));
  };
  // max_results absent or 0 means every row (UC semantics); negative values are the service's to refuse.
  if (opts.maxResults === undefined || opts.maxResults <= 0) {
    const all = await opts.fetch(opts.pageToken, opts.maxResults);
    return { items: await keep(all.items) };
  }
  const limit = opts.maxResults;
  const out: T[] = [];
  let token = opts.pageToken;
  for (;;) {
    const batch = await opts.fetch(token, Math.max(limit + 1, BATCH_MIN));
    out.push(...(await keep(batch.items)));
    if (out.length > limit || !batch.next_page_token) break;
    token = batch.next_page_token;
  }
  if (out.length <= limit) return { items: out };
  const page = out.slice(0, limit);
  const last = page[page.length - 1];
  return last ? { items: page, next_page_token: last.name } : { items: page };
}
