export { buildApp, type WeirApp } from './app.ts';
export { startServer } from './main.ts';
export { resolveConfig, type ServerConfig } from './platform/config.ts';
