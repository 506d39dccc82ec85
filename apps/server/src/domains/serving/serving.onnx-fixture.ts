// Builds tiny ONNX models byte by byte (protobuf wire format) so the serving tests need no downloads and no Python.
// Field numbers are those of onnx.proto: ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto, TypeProto.

function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

const key = (field: number, wire: number) => varint((field << 3) | wire);
const int = (field: number, n: number) => [...key(field, 0), ...varint(n)];
const bytes = (field: number, b: number[] | Uint8Array) => [...key(field, 2), ...varint(b.length), ...b];
const str = (field: number, s: string) => bytes(field, [...Buffer.from(s, 'utf8')]);

function floats(values: number[]): number[] {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => {
    buf.writeFloatLE(v, i * 4);
  });
  return [...buf];
}

/** A float tensor type with a symbolic batch dimension `N` and the given fixed trailing dims. */
function floatTensorType(trailing: number[]): number[] {
  const dims = [bytes(1, str(2, 'N')), ...trailing.map((d) => bytes(1, int(1, d)))].flat();
  const tensor = [...int(1, 1), ...bytes(2, dims)];
  return bytes(1, tensor);
}

const valueInfo = (field: number, name: string, trailing: number[]) => bytes(field, [...str(1, name), ...bytes(2, floatTensorType(trailing))]);

function initializer(name: string, dims: number[], values: number[]): number[] {
  return bytes(5, [...dims.flatMap((d) => int(1, d)), ...int(2, 1), ...bytes(4, floats(values)), ...str(8, name)]);
}

const node = (inputs: string[], output: string, op: string) =>
  bytes(1, [...inputs.flatMap((i) => str(1, i)), ...str(2, output), ...str(3, `${op}_node`), ...str(4, op)]);

/**
 * A linear regression `y = X · weights + bias` over one float input `X` of shape [N, weights.length], answering `y` of
 * shape [N, 1]: MatMul then Add, opset 13.
 */
export function linearOnnxModel(weights: number[], bias: number): Buffer {
  const graph = [
    ...node(['X', 'W'], 'XW', 'MatMul'),
    ...node(['XW', 'B'], 'y', 'Add'),
    ...str(2, 'linear'),
    ...initializer('W', [weights.length, 1], weights),
    ...initializer('B', [1], [bias]),
    ...valueInfo(11, 'X', [weights.length]),
    ...valueInfo(12, 'y', [1]),
  ];
  const model = [...int(1, 8), ...str(2, 'weir-test'), ...bytes(7, graph), ...bytes(8, [...str(1, ''), ...int(2, 13)])];
  return Buffer.from(model);
}
