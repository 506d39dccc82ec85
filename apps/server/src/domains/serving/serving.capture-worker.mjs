// The capture thread: appends inference-table micro-batches to Delta off the event loop (serving.capture-thread.ts).
// Plain JavaScript that registers the TypeScript loader itself: a worker thread does not inherit the main thread's.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { appendPayloadBatch } = await import('./serving.capture-writer.ts');

parentPort.on('message', async (message) => {
  try {
    const { compactError } = await appendPayloadBatch(message.dir, new Uint8Array(message.lines), message.compact);
    parentPort.postMessage({ id: message.id, compactError });
  } catch (err) {
    parentPort.postMessage({ id: message.id, error: err instanceof Error ? err.message : String(err) });
  }
});
