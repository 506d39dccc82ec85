import type { Principal } from '../../platform/http.ts';
import type { SecurableType } from './governance.types.ts';

/** What filtered listing needs from governance. */
export interface ListingVisibility {
  visibleWithOwners(principal: Principal, type: SecurableType, fullNames: string[], leafOwners?: Map<string, string>): Promise<Set<string>>;
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
