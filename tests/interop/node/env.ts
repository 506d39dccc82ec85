// Shared settings for the Node interop tests.
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const WEIR_URL = (process.env.WEIR_URL ?? '').replace(/\/+$/, '');
export const WEIR_TOKEN = process.env.WEIR_TOKEN ?? '';

// Under vitest.interop.config.ts the server is mandatory; elsewhere (e.g. a plain
// `vitest run` that happens to collect these files) the suites are skipped.
if (process.env.WEIR_INTEROP_REQUIRED === '1' && !WEIR_URL) {
  throw new Error('WEIR_URL must be set for the interop suite (see tests/interop/run.sh)');
}
if (WEIR_URL && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(WEIR_URL)) {
  throw new Error(`WEIR_URL must be a loopback http URL, got ${WEIR_URL}`);
}
export const enabled = WEIR_URL !== '';

// Keep the Databricks SDK away from any user configuration.
// (a path that does not exist; nothing is created there)
process.env.DATABRICKS_CONFIG_FILE = join(tmpdir(), `weir-interop-no-databrickscfg-${process.pid}`, 'databrickscfg');
for (const v of ['DATABRICKS_HOST', 'DATABRICKS_TOKEN', 'DATABRICKS_CONFIG_PROFILE', 'DATABRICKS_AUTH_TYPE']) {
  delete process.env[v];
}

export function authHeaders(): Record<string, string> {
  return WEIR_TOKEN ? { Authorization: `Bearer ${WEIR_TOKEN}` } : {};
}

export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}
