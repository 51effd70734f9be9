/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header naming each tensor's
 * dtype, shape and byte range, then the raw little-endian data. Weights are read into float32 whatever
 * their stored type (F32, F16, BF16), since every computation in src/llm is float32.
 */
import { open, readFile, rename } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SqlError } from '../errors/sql-error.js';
import type { WeightMap } from './llama-config.js';

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function decode(dtype: string, bytes: Uint8Array, count: number, name: string): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    default:
      throw new SqlError('0A000', `tensor ${name} has dtype ${dtype}; only F32, F16, BF16 and F64 weights can be loaded`);
  }
}

/** Parses the bytes of one .safetensors file. `only` limits which tensors are decoded. */
export function parseSafetensors(bytes: Uint8Array, only?: (name: string) => boolean): { tensors: WeightMap; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new SqlError('22P02', 'not a safetensors file: shorter than its header length');
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (headerLength > bytes.length - 8) throw new SqlError('22P02', 'not a safetensors file: header length past the end of the file');
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as typeof header;
  } catch {
    throw new SqlError('22P02', 'not a safetensors file: its header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new SqlError('22P02', 'not a safetensors file: its header is not a JSON object');
  const dataStart = 8 + headerLength;
  const tensors: WeightMap = new Map();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    if (only && !only(name)) continue;
    const e = entry as HeaderEntry;
    if (typeof e !== 'object' || e === null || !Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)
      || !Array.isArray(e.data_offsets) || e.data_offsets.length !== 2 || !e.data_offsets.every((o) => Number.isInteger(o) && o >= 0) || typeof e.dtype !== 'string') {
      throw new SqlError('22P02', `safetensors: tensor ${name} has no valid dtype, shape and data_offsets`);
    }
    const count = e.shape.reduce((a, b) => a * b, 1);
    const [begin, end] = e.data_offsets;
    const width = BYTES[e.dtype];
    if (width !== undefined && end - begin !== count * width) throw new SqlError('22P02', `safetensors: tensor ${name} has ${end - begin} bytes for shape [${e.shape.join(', ')}]`);
    if (dataStart + end > bytes.length) throw new SqlError('22P02', `safetensors: tensor ${name} runs past the end of the file`);
    tensors.set(name, { shape: e.shape, data: decode(e.dtype, bytes.subarray(dataStart + begin, dataStart + end), count, name) });
  }
  return { tensors, metadata };
}

/** The bytes of a .safetensors file holding `tensors` as F32, in the order given. */
export function serializeSafetensors(tensors: WeightMap, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`tensor ${name}: shape [${t.shape.join(', ')}] does not match ${t.data.length} values`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + count * 4] };
    offset += count * 4;
  }
  let json = JSON.stringify(header);
  // The data starts 8-byte aligned, as the reference writer pads its header.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

/** Writes a .safetensors file atomically (write, fsync, rename). */
export async function writeSafetensors(path: string, tensors: WeightMap, metadata?: Record<string, string>): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(serializeSafetensors(tensors, metadata));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}

export async function readSafetensors(path: string, only?: (name: string) => boolean): Promise<WeightMap> {
  return parseSafetensors(await readFile(path), only).tensors;
}

/** Whether a folder has safetensors weights: model.safetensors, or a sharded index. */
export const hasFolderWeights = (folder: string): boolean =>
  existsSync(join(folder, 'model.safetensors')) || existsSync(join(folder, 'model.safetensors.index.json'));

/**
 * The weights of a model folder: model.safetensors, or the shards listed in model.safetensors.index.json.
 */
export async function loadFolderWeights(folder: string, only?: (name: string) => boolean): Promise<WeightMap> {
  const single = join(folder, 'model.safetensors');
  if (existsSync(single)) return readSafetensors(single, only);
  const index = join(folder, 'model.safetensors.index.json');
  if (!existsSync(index)) throw new SqlError('58P01', `${folder} has no model.safetensors nor model.safetensors.index.json`);
  const map = (JSON.parse(await readFile(index, 'utf8')) as { weight_map?: Record<string, string> }).weight_map ?? {};
  const weights: WeightMap = new Map();
  for (const shard of [...new Set(Object.values(map))]) {
    for (const [name, t] of await readSafetensors(join(folder, shard), only)) weights.set(name, t);
  }
  return weights;
}
