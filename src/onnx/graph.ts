/** A small builder for ONNX graphs (standard operators, opset 17): inputs, outputs, nodes, initializers and constants. */
import {
  DataType,
  float32Bytes,
  int64Bytes,
  type AttributeValue,
  type DataTypeCode,
  type Dim,
  type GraphSpec,
  type NodeSpec,
  type TensorSpec,
  type ValueInfoSpec,
} from './proto.js';

export type Attrs = Readonly<Record<string, AttributeValue>>;

export const int = (value: number): AttributeValue => ({ kind: 'int', value });
export const float = (value: number): AttributeValue => ({ kind: 'float', value });
export const ints = (value: readonly number[]): AttributeValue => ({ kind: 'ints', value });

export class GraphBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly initializers: TensorSpec[] = [];
  private readonly inputs: ValueInfoSpec[] = [];
  private readonly outputs: ValueInfoSpec[] = [];
  private readonly constants = new Map<string, string>();
  private readonly initializerNames = new Set<string>();
  private counter = 0;
  /** Prefix for the names of nodes and weights created next (e.g. "encoder.layer.0.attention"). */
  scope = '';

  constructor(readonly name: string) {}

  private fresh(base: string): string {
    return `${this.scope === '' ? '' : `/${this.scope}`}/${base}_${this.counter++}`;
  }

  input(name: string, elemType: DataTypeCode, shape: readonly Dim[]): string {
    this.inputs.push({ name, elemType, shape });
    return name;
  }

  /** Declares `value` as the graph output `name` (through an Identity node when the names differ). */
  output(value: string, name: string, elemType: DataTypeCode, shape: readonly Dim[]): void {
    if (value !== name) this.op('Identity', [value], {}, name);
    this.outputs.push({ name, elemType, shape });
  }

  /** Adds a node; returns the name of its (first) output. */
  op(opType: string, inputs: readonly string[], attributes: Attrs = {}, outputName?: string): string {
    const out = outputName ?? this.fresh(`${opType}_output`);
    this.nodes.push({ opType, inputs, outputs: [out], name: this.fresh(opType), attributes });
    return out;
  }

  /** A float32 initializer with explicit values. */
  tensor(name: string, dims: readonly number[], values: ArrayLike<number>): string {
    const full = this.scope === '' ? name : `${this.scope}.${name}`;
    if (this.initializerNames.has(full)) throw new Error(`duplicate initializer ${full}`);
    this.initializerNames.add(full);
    this.initializers.push({ name: full, dataType: DataType.FLOAT, dims, rawData: float32Bytes(values) });
    return full;
  }

  /** A float32 initializer filled with one value. */
  filled(name: string, dims: readonly number[], value: number): string {
    return this.tensor(name, dims, new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(value));
  }

  private constant(dataType: DataTypeCode, dims: readonly number[], raw: Uint8Array, key: string): string {
    const cached = this.constants.get(key);
    if (cached !== undefined) return cached;
    const name = `const_${this.constants.size}`;
    this.initializers.push({ name, dataType, dims, rawData: raw });
    this.constants.set(key, name);
    return name;
  }

  /** An int64 constant; `dims` [] makes a scalar. */
  i64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.constant(DataType.INT64, dims, int64Bytes(values), `i64:${dims.join('x')}:${values.join(',')}`);
  }

  /** A float32 constant; `dims` [] makes a scalar. */
  f32(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.constant(DataType.FLOAT, dims, float32Bytes(values), `f32:${dims.join('x')}:${values.join(',')}`);
  }

  build(): GraphSpec {
    return { name: this.name, nodes: this.nodes, initializers: this.initializers, inputs: this.inputs, outputs: this.outputs };
  }
}
