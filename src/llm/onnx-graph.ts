/**
 * Reading an ONNX model file (onnx.proto's ModelProto) far enough to take the weights out of it: the
 * graph's nodes (operator, inputs, outputs, integer attributes) and its float32 initializers. Decoding
 * is protobufjs's, over the subset of onnx.proto's messages and field numbers declared here.
 */
import protobuf from 'protobufjs';
import { SqlError } from '../errors/sql-error.js';
import type { Tensor } from './llama-config.js';

const repeated = (type: string, id: number): protobuf.IField & { rule: string } => ({ rule: 'repeated', type, id });

const root = protobuf.Root.fromJSON({
  nested: {
    onnx: {
      nested: {
        ModelProto: { fields: { graph: { type: 'GraphProto', id: 7 } } },
        GraphProto: { fields: { node: repeated('NodeProto', 1), initializer: repeated('TensorProto', 5) } },
        NodeProto: {
          fields: { input: repeated('string', 1), output: repeated('string', 2), name: { type: 'string', id: 3 }, opType: { type: 'string', id: 4 }, attribute: repeated('AttributeProto', 5), domain: { type: 'string', id: 7 } },
        },
        AttributeProto: { fields: { name: { type: 'string', id: 1 }, i: { type: 'int64', id: 3 } } },
        TensorProto: {
          fields: {
            dims: repeated('int64', 1), dataType: { type: 'int32', id: 2 }, floatData: repeated('float', 4), name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 }, externalData: repeated('StringStringEntryProto', 13), dataLocation: { type: 'int32', id: 14 },
          },
        },
        StringStringEntryProto: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
      },
    },
  },
});
const ModelProto = root.lookupType('onnx.ModelProto');

/** TensorProto.DataType.FLOAT */
const FLOAT = 1;

export interface OnnxNode {
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  /** Integer attributes (transA, transB, axis...). */
  ints: Record<string, number>;
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  /** float32 initializers by name; other types are left out. */
  initializers: Map<string, Tensor>;
}

interface RawTensor {
  dims?: number[];
  dataType?: number;
  floatData?: number[];
  name?: string;
  rawData?: Uint8Array;
  dataLocation?: number;
}

interface RawNode {
  input?: string[];
  output?: string[];
  opType?: string;
  domain?: string;
  attribute?: Array<{ name?: string; i?: number }>;
}

function floats(t: RawTensor): Float32Array {
  const count = (t.dims ?? []).reduce((a, b) => a * b, 1);
  if (t.rawData && t.rawData.length > 0) {
    if (t.rawData.length !== count * 4) throw new SqlError('22P02', `onnx initializer ${t.name} has ${t.rawData.length} bytes for ${count} float32 values`);
    const out = new Float32Array(count);
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  const data = t.floatData ?? [];
  if (data.length !== count) throw new SqlError('22P02', `onnx initializer ${t.name} has ${data.length} values for shape [${(t.dims ?? []).join(', ')}]`);
  return Float32Array.from(data);
}

/** Decodes an ONNX model's graph; weights stored outside the file (external data) are refused. */
export function readOnnxGraph(bytes: Uint8Array): OnnxGraph {
  let decoded: { graph?: { node?: RawNode[]; initializer?: RawTensor[] } };
  try {
    decoded = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, defaults: false, arrays: true }) as typeof decoded;
  } catch (err) {
    throw new SqlError('22P02', `not an ONNX model file: ${(err as Error).message}`);
  }
  const graph = decoded.graph ?? {};
  const initializers = new Map<string, Tensor>();
  for (const t of graph.initializer ?? []) {
    if (t.dataLocation === 1) {
      throw new SqlError('0A000', `onnx initializer ${t.name} is stored outside the model file (external data)`, 'give the model folder its weights as model.safetensors');
    }
    if ((t.dataType ?? FLOAT) !== FLOAT || t.name === undefined) continue;
    initializers.set(t.name, { shape: (t.dims ?? []).map(Number), data: floats(t) });
  }
  const nodes = (graph.node ?? []).map((n): OnnxNode => ({
    opType: n.opType ?? '',
    domain: n.domain ?? '',
    inputs: n.input ?? [],
    outputs: n.output ?? [],
    ints: Object.fromEntries((n.attribute ?? []).filter((a) => a.name !== undefined && a.i !== undefined).map((a) => [a.name!, Number(a.i)])),
  }));
  return { nodes, initializers };
}
