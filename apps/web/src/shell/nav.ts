/** A navigation entry; only pages whose APIs exist today are listed, so the shell never offers a dead end. */
export interface NavItem {
  label: string;
  href: string;
  /** Paths under this prefix mark the entry as current. */
  match: string;
  adminOnly?: boolean;
}

/** The shell's navigation, in display order. */
export const NAV_ITEMS: readonly NavItem[] = [
  { label: 'Experiments', href: '/', match: '/experiments' },
  { label: 'Models', href: '/models', match: '/models' },
  { label: 'Catalog', href: '/catalog', match: '/catalog' },
  { label: 'SQL', href: '/sql', match: '/sql' },
  { label: 'Endpoints', href: '/endpoints', match: '/endpoints' },
  { label: 'Lineage', href: '/lineage', match: '/lineage' },
  { label: 'Tokens', href: '/settings/tokens', match: '/settings/tokens' },
  { label: 'Users', href: '/admin/users', match: '/admin/users', adminOnly: true },
  { label: 'Groups', href: '/admin/groups', match: '/admin/groups', adminOnly: true },
  { label: 'Audit', href: '/admin/audit', match: '/admin/audit', adminOnly: true },
];

/** The entries a caller sees: admin pages only for admins. */
export function visibleNav(isAdmin: boolean): NavItem[] {
  return NAV_ITEMS.filter((item) => !item.adminOnly || isAdmin);
}
