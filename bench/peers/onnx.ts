/**
 * A minimal ONNX writer: one-node float graphs (MatMul, Conv, Add, ...) with fixed shapes, encoded
 * straight to protobuf wire format so benchmarks need no onnx package. Field numbers are those of
 * onnx/onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto, ValueInfoProto, TypeProto).
 */

/** ONNX TensorProto.DataType codes used here. */
export const ONNX_DTYPE = { float32: 1, bfloat16: 16 } as const;

/** A node attribute: an int, a list of ints, a float or a string. */
export type OnnxAttribute = number | readonly number[] | string | { float: number };

/** A named graph input or output with a fixed shape. */
export interface OnnxValue {
  name: string;
  shape: readonly number[];
  dtype?: keyof typeof ONNX_DTYPE;
}

/** One operator applied to graph inputs, producing graph outputs. */
export interface OnnxSingleNodeGraph {
  opType: string;
  inputs: readonly OnnxValue[];
  outputs: readonly OnnxValue[];
  attributes?: Record<string, OnnxAttribute>;
  opset?: number;
}

// Protobuf wire types.
const VARINT = 0;
const FIXED32 = 5;
const LENGTH_DELIMITED = 2;

// AttributeProto.AttributeType codes.
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_INTS = 7;

/** Accumulates one protobuf message. */
class Message {
  private readonly parts: Uint8Array[] = [];

  private push(bytes: number[] | Uint8Array): void {
    this.parts.push(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
  }

  private key(field: number, wireType: number): void {
    this.push(varint(field * 8 + wireType));
  }

  int(field: number, value: number): this {
    this.key(field, VARINT);
    this.push(varint(value));
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, LENGTH_DELIMITED);
    this.push(varint(value.length));
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, value: Message): this {
    return this.bytes(field, value.finish());
  }

  finish(): Uint8Array {
    const total = this.parts.reduce((n, p) => n + p.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

// Base-128 varint of a non-negative integer (int64 fields here never hold negatives).
function varint(value: number): number[] {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`onnx: cannot encode ${value} as a varint`);
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

function valueInfo(v: OnnxValue): Message {
  const shape = new Message();
  for (const d of v.shape) shape.message(1, new Message().int(1, d)); // TensorShapeProto.dim.dim_value
  const tensorType = new Message().int(1, ONNX_DTYPE[v.dtype ?? 'float32']).message(2, shape);
  return new Message().string(1, v.name).message(2, new Message().message(1, tensorType));
}

function attribute(name: string, value: OnnxAttribute): Message {
  const a = new Message().string(1, name);
  if (typeof value === 'number') return a.int(20, ATTR_INT).int(3, value);
  if (typeof value === 'string') return a.int(20, ATTR_STRING).bytes(4, new TextEncoder().encode(value));
  if ('float' in value) return a.int(20, ATTR_FLOAT).float(2, value.float);
  a.int(20, ATTR_INTS);
  for (const v of value) a.int(8, v);
  return a;
}

/** Serialises a single-node ModelProto (IR version 8, default domain at the given opset, 17 by default). */
export function singleNodeModel(graph: OnnxSingleNodeGraph): Uint8Array {
  const node = new Message();
  for (const v of graph.inputs) node.string(1, v.name);
  for (const v of graph.outputs) node.string(2, v.name);
  node.string(3, `${graph.opType}_0`).string(4, graph.opType);
  for (const [name, value] of Object.entries(graph.attributes ?? {})) node.message(5, attribute(name, value));

  const g = new Message().message(1, node).string(2, `${graph.opType.toLowerCase()}_graph`);
  for (const v of graph.inputs) g.message(11, valueInfo(v));
  for (const v of graph.outputs) g.message(12, valueInfo(v));

  return new Message()
    .int(1, 8) // ir_version
    .string(2, 'tsvision-bench') // producer_name
    .message(7, g)
    .message(8, new Message().string(1, '').int(2, graph.opset ?? 17)) // opset_import
    .finish();
}
