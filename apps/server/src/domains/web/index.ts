export { webMigrations } from './web.migrations.ts';
export { RESERVED_PREFIXES, webSessionRoutes, webUiRoutes } from './web.routes.ts';
export { CSRF_HEADER, createWebSessionService, SESSION_COOKIE, type WebSessionService } from './web.service.ts';
export type { WebTables } from './web.tables.ts';
