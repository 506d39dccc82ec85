// The floor Weir's serving is measured against: a bare Fastify JSON route that runs the same ONNX model with a bare
// onnxruntime call, in one process, with nothing else (no auth, no routing, no signature checks, no capture).
//
//   npx tsx bench/serving/floor.ts MODEL.onnx PORT
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';

const [file, portArg] = process.argv.slice(2);
if (!file || !portArg) throw new Error('usage: floor.ts MODEL.onnx PORT');
// The same session options as Weir's runtime (serving.runtime.ts, WEIR_ONNX_THREADS unset): one thread per run, and
// pool threads (if any) sleep between runs instead of spinning.
const session = await ort.InferenceSession.create(file, {
  intraOpNumThreads: 1,
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
});
const input = session.inputNames[0] as string;
const outputs = session.outputNames;
const app = Fastify({ logger: false });
app.get('/health', async () => 'OK');
app.post('/invocations', async (req) => {
  const rows = (req.body as { inputs: number[][] }).inputs;
  const width = rows[0]?.length ?? 0;
  const result = await session.run({ [input]: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, width]) });
  const label = Array.from(result[outputs[0] as string]?.data as ArrayLike<unknown>);
  const probabilities = result[outputs[1] as string];
  const k = probabilities ? (probabilities.dims[1] as number) : 0;
  const p = probabilities ? Array.from(probabilities.data as Float32Array) : [];
  return { predictions: label.map((l, i) => ({ label: l, probabilities: p.slice(i * k, i * k + k) })) };
});
await app.listen({ host: '127.0.0.1', port: Number(portArg) });
process.stdout.write('ready\n');
