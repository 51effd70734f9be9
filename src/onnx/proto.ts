/**
 * A minimal writer for the ONNX protobuf messages (onnx.proto, IR version 8): ModelProto, GraphProto,
 * NodeProto, AttributeProto, TensorProto, ValueInfoProto and the type/shape messages they embed.
 *
 * Only what the test-model generators need is encoded; every field number used is named below, as in
 * onnx/onnx.proto. The wire format: each field is a key (field number << 3 | wire type) as a varint, then
 * a varint (wire type 0), a 32-bit little-endian value (wire type 5), or a length-prefixed byte string
 * (wire type 2) for strings, bytes, embedded messages and packed repeated scalars.
 */

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/** Field numbers of the ONNX messages (onnx.proto). */
const F = {
  model: { irVersion: 1, producerName: 2, producerVersion: 3, domain: 4, modelVersion: 5, docString: 6, graph: 7, opsetImport: 8 },
  opset: { domain: 1, version: 2 },
  graph: { node: 1, name: 2, initializer: 5, docString: 10, input: 11, output: 12 },
  node: { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 },
  attribute: { name: 1, f: 2, i: 3, s: 4, t: 5, floats: 7, ints: 8, type: 20 },
  tensor: { dims: 1, dataType: 2, name: 8, rawData: 9 },
  valueInfo: { name: 1, type: 2 },
  type: { tensorType: 1 },
  typeTensor: { elemType: 1, shape: 2 },
  shape: { dim: 1 },
  dim: { dimValue: 1, dimParam: 2 },
} as const;

/** AttributeProto.AttributeType */
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

/** TensorProto.DataType */
export const DataType = { FLOAT: 1, INT64: 7, BOOL: 9 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** Appends protobuf-encoded fields to a growing list of byte chunks. */
class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private varint(value: bigint): void {
    // Negative int64 values are encoded as their two's complement, 10 bytes long.
    let v = BigInt.asUintN(64, value);
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }

  private key(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }

  int(field: number, value: number | bigint): this {
    this.key(field, WIRE_VARINT);
    this.varint(BigInt(value));
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, WIRE_I32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, WIRE_LEN);
    this.varint(BigInt(value.length));
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish());
  }

  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(BigInt(v));
    return this.bytes(field, inner.finish());
  }

  packedFloats(field: number, values: readonly number[]): this {
    const b = new Uint8Array(values.length * 4);
    const view = new DataView(b.buffer);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    return this.bytes(field, b);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

/** A constant tensor (an initializer, or the value of a Constant node). */
export interface TensorSpec {
  name: string;
  dataType: DataTypeCode;
  dims: readonly number[];
  /** Little-endian bytes of the values, in row-major order. */
  rawData: Uint8Array;
}

export type AttributeValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'tensor'; value: TensorSpec };

export interface NodeSpec {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name: string;
  attributes?: Readonly<Record<string, AttributeValue>>;
  domain?: string;
}

/** A dimension: a fixed size, or a symbolic name such as "batch_size". */
export type Dim = number | string;

export interface ValueInfoSpec {
  name: string;
  elemType: DataTypeCode;
  shape: readonly Dim[];
}

export interface GraphSpec {
  name: string;
  nodes: readonly NodeSpec[];
  initializers: readonly TensorSpec[];
  inputs: readonly ValueInfoSpec[];
  outputs: readonly ValueInfoSpec[];
}

export interface ModelSpec {
  graph: GraphSpec;
  /** ONNX IR version; 8 goes with opset 17. */
  irVersion?: number;
  opsetVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
}

function tensorMessage(t: TensorSpec): ProtoWriter {
  const w = new ProtoWriter();
  if (t.dims.length > 0) w.packedInts(F.tensor.dims, t.dims);
  w.int(F.tensor.dataType, t.dataType);
  w.string(F.tensor.name, t.name);
  w.bytes(F.tensor.rawData, t.rawData);
  return w;
}

function attributeMessage(name: string, a: AttributeValue): ProtoWriter {
  const w = new ProtoWriter().string(F.attribute.name, name);
  switch (a.kind) {
    case 'int':
      return w.int(F.attribute.i, a.value).int(F.attribute.type, ATTR.INT);
    case 'float':
      return w.float(F.attribute.f, a.value).int(F.attribute.type, ATTR.FLOAT);
    case 'string':
      return w.string(F.attribute.s, a.value).int(F.attribute.type, ATTR.STRING);
    case 'ints':
      return w.packedInts(F.attribute.ints, a.value).int(F.attribute.type, ATTR.INTS);
    case 'floats':
      return w.packedFloats(F.attribute.floats, a.value).int(F.attribute.type, ATTR.FLOATS);
    case 'tensor':
      return w.message(F.attribute.t, tensorMessage(a.value)).int(F.attribute.type, ATTR.TENSOR);
  }
}

function nodeMessage(n: NodeSpec): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(F.node.input, i);
  for (const o of n.outputs) w.string(F.node.output, o);
  w.string(F.node.name, n.name);
  w.string(F.node.opType, n.opType);
  for (const [name, a] of Object.entries(n.attributes ?? {})) w.message(F.node.attribute, attributeMessage(name, a));
  if (n.domain !== undefined && n.domain !== '') w.string(F.node.domain, n.domain);
  return w;
}

function valueInfoMessage(v: ValueInfoSpec): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(F.dim.dimValue, d);
    else dim.string(F.dim.dimParam, d);
    shape.message(F.shape.dim, dim);
  }
  const tensorType = new ProtoWriter().int(F.typeTensor.elemType, v.elemType).message(F.typeTensor.shape, shape);
  const type = new ProtoWriter().message(F.type.tensorType, tensorType);
  return new ProtoWriter().string(F.valueInfo.name, v.name).message(F.valueInfo.type, type);
}

function graphMessage(g: GraphSpec): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(F.graph.node, nodeMessage(n));
  w.string(F.graph.name, g.name);
  for (const t of g.initializers) w.message(F.graph.initializer, tensorMessage(t));
  for (const i of g.inputs) w.message(F.graph.input, valueInfoMessage(i));
  for (const o of g.outputs) w.message(F.graph.output, valueInfoMessage(o));
  return w;
}

/** Serializes a model to the bytes of a `.onnx` file. */
export function encodeModel(m: ModelSpec): Uint8Array {
  const w = new ProtoWriter();
  w.int(F.model.irVersion, m.irVersion ?? 8);
  w.string(F.model.producerName, m.producerName ?? 'aiduck-testmodels');
  w.string(F.model.producerVersion, m.producerVersion ?? '1');
  if (m.docString !== undefined) w.string(F.model.docString, m.docString);
  w.message(F.model.graph, graphMessage(m.graph));
  w.message(F.model.opsetImport, new ProtoWriter().string(F.opset.domain, '').int(F.opset.version, m.opsetVersion ?? 17));
  return w.finish();
}

/** Little-endian float32 bytes. */
export function float32Bytes(values: ArrayLike<number>): Uint8Array {
  const b = new Uint8Array(values.length * 4);
  const view = new DataView(b.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] ?? 0, true);
  return b;
}

/** Little-endian int64 bytes. */
export function int64Bytes(values: ArrayLike<number | bigint>): Uint8Array {
  const b = new Uint8Array(values.length * 8);
  const view = new DataView(b.buffer);
  for (let i = 0; i < values.length; i++) view.setBigInt64(i * 8, BigInt(values[i] ?? 0), true);
  return b;
}
