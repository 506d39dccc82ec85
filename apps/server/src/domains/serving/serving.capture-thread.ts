import { Worker } from 'node:worker_threads';
import { appendPayloadBatch } from './serving.capture-writer.ts';

/** Appends a batch to the payload table in `dir`, compacting its small files after it when `compact` is set. */
export type AppendPayloadBatch = (dir: string, lines: Uint8Array, compact: boolean) => Promise<{ compactError: string | null }>;

/** The capture thread: where payload batches are written, and how to stop it. */
export interface CaptureThread {
  append: AppendPayloadBatch;
  /** Stops the thread once the batches handed to it are answered. */
  stop(): Promise<void>;
}

/**
 * Starts the thread that writes payload batches (serving.capture-worker.mjs). A micro-batch's Delta commit (DuckDB's
 * Parquet write, the log, checkpoints, compaction) then costs the event loop one message each way instead of several
 * milliseconds of JavaScript, so scoring requests do not queue behind it. Should the thread fail, the batches it held
 * are reported failed and the next ones are written on the event loop.
 */
export function startCaptureThread(
  log: (message: string) => void,
  /** The thread's module (tests substitute one that fails). */
  workerUrl: URL = new URL('./serving.capture-worker.mjs', import.meta.url),
): CaptureThread {
  let worker: Worker | null = new Worker(workerUrl);
  worker.unref();
  let nextId = 0;
  const pending = new Map<number, { resolve(r: { compactError: string | null }): void; reject(err: Error): void }>();

  function fail(reason: string): void {
    if (!worker) return;
    worker = null;
    log(`the inference capture thread stopped (${reason}); batches are written on the event loop from now on`);
    for (const p of pending.values()) p.reject(new Error(`the capture thread stopped: ${reason}`));
    pending.clear();
  }
  worker.on('message', (m: { id: number; compactError?: string | null; error?: string }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error !== undefined) p.reject(new Error(m.error));
    else p.resolve({ compactError: m.compactError ?? null });
  });
  worker.on('error', (err) => fail(err.message));
  worker.on('exit', (code) => fail(`exit code ${code}`));

  return {
    append(dir, lines, compact) {
      if (!worker) return appendPayloadBatch(dir, lines, compact);
      const id = nextId++;
      // A copy of exactly the batch's bytes, handed over (not cloned): the caller's buffer may be larger than the batch.
      const copy = new Uint8Array(lines.length);
      copy.set(lines);
      const answer = new Promise<{ compactError: string | null }>((resolve, reject) => pending.set(id, { resolve, reject }));
      worker.postMessage({ id, dir, lines: copy.buffer, compact }, [copy.buffer]);
      return answer;
    },
    async stop() {
      const w = worker;
      if (!w) return;
      worker = null;
      await w.terminate();
    },
  };
}
