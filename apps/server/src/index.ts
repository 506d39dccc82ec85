export { buildApp, type WeirApp } from './app.ts';
export { DEFAULT_ALIAS_POLL_SECONDS, type StandaloneServing, startStandaloneServing } from './domains/serving/index.ts';
export { startServer } from './main.ts';
export { resolveConfig, type ServerConfig } from './platform/config.ts';
