/** A navigation entry; only pages whose APIs exist today are listed, so the shell never offers a dead end. */
export interface NavItem {
  label: string;
  href: string;
  /** Paths under this prefix mark the entry as current. */
  match: string;
  adminOnly?: boolean;
}

// Models, catalog, SQL, endpoints, audit and lineage add their entries here as their features/<domain> pages land.
/** The shell's navigation, in display order. */
export const NAV_ITEMS: readonly NavItem[] = [
  { label: 'Experiments', href: '/', match: '/experiments' },
  { label: 'Tokens', href: '/settings/tokens', match: '/settings/tokens' },
  { label: 'Users', href: '/admin/users', match: '/admin/users', adminOnly: true },
];

/** The entries a caller sees: admin pages only for admins. */
export function visibleNav(isAdmin: boolean): NavItem[] {
  return NAV_ITEMS.filter((item) => !item.adminOnly || isAdmin);
}
