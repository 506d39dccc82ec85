import { buildApp } from './app.ts';
import type { ServerConfig } from './platform/config.ts';

/** Starts the server and wires graceful shutdown: in-flight requests finish, then the store closes. */
export async function startServer(config: ServerConfig): Promise<{ url: string; stop(): Promise<void> }> {
  const weir = await buildApp(config);
  const address = await weir.app.listen({ host: config.host, port: config.port });
  weir.app.log.info({ address, dataDir: config.dataDir, metadata: config.metadataUrl ? 'postgres' : 'sqlite' }, 'weir server listening');
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= weir.close();
    return stopping;
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      weir.app.log.info({ signal }, 'shutting down');
      stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
  return { url: address, stop };
}
