/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header naming each tensor's
 * dtype, shape and byte range, then the raw little-endian data. Weights are read into float32 whatever
 * their stored type (F32, F16, BF16), since every computation in src/llm is float32.
 */
import { open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
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
const LITTLE_ENDIAN = endianness() === 'LE';

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

const unsupportedDtype = (name: string, dtype: string): SqlError =>
  new SqlError('0A000', `tensor ${name} has dtype ${dtype}; only F32, F16, BF16 and F64 weights can be loaded`);

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
      throw unsupportedDtype(name, dtype);
  }
}

interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  count: number;
  /** Byte range in the file. */
  begin: number;
  end: number;
}

/**
 * The tensors a header describes, checked against the file's length: `headerLength` bytes of JSON after
 * the 8-byte length, then the data, every tensor's range inside it.
 */
function parseHeader(json: Uint8Array, fileLength: number, only?: (name: string) => boolean): { entries: TensorEntry[]; metadata: Record<string, string> } {
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(json)) as typeof header;
  } catch {
    throw new SqlError('22P02', 'not a safetensors file: its header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new SqlError('22P02', 'not a safetensors file: its header is not a JSON object');
  const dataStart = 8 + json.length;
  const entries: TensorEntry[] = [];
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
    if (end < begin || dataStart + end > fileLength) throw new SqlError('22P02', `safetensors: tensor ${name} runs past the end of the file`);
    entries.push({ name, dtype: e.dtype, shape: e.shape, count, begin: dataStart + begin, end: dataStart + end });
  }
  return { entries, metadata };
}

function headerLengthOf(first8: Uint8Array, fileLength: number): number {
  if (fileLength < 8) throw new SqlError('22P02', 'not a safetensors file: shorter than its header length');
  const headerLength = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  if (headerLength > fileLength - 8) throw new SqlError('22P02', 'not a safetensors file: header length past the end of the file');
  return headerLength;
}

/** Parses the bytes of one .safetensors file. `only` limits which tensors are decoded. */
export function parseSafetensors(bytes: Uint8Array, only?: (name: string) => boolean): { tensors: WeightMap; metadata: Record<string, string> } {
  const headerLength = headerLengthOf(bytes, bytes.length);
  const { entries, metadata } = parseHeader(bytes.subarray(8, 8 + headerLength), bytes.length, only);
  const tensors: WeightMap = new Map();
  for (const e of entries) tensors.set(e.name, { shape: e.shape, data: decode(e.dtype, bytes.subarray(e.begin, e.end), e.count, e.name) });
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

/** Values decoded per read: a tensor is read in pieces, so a large one never sits in memory twice over. */
const READ_CHUNK_VALUES = 1 << 24;

async function readExactly(handle: FileHandle, into: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await handle.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) throw new SqlError('22P02', `${path} ends before its tensors do`);
    done += bytesRead;
  }
}

/**
 * Reads a .safetensors file tensor by tensor from disk (any size: a single-file checkpoint of a 1B+ model
 * is larger than the 2 GiB Node reads into one buffer). `only` limits which tensors are read.
 */
export async function readSafetensors(path: string, only?: (name: string) => boolean): Promise<WeightMap> {
  const handle = await open(path, 'r');
  try {
    const fileLength = (await handle.stat()).size;
    const first8 = new Uint8Array(8);
    if (fileLength >= 8) await readExactly(handle, first8, 0, path);
    const headerLength = headerLengthOf(first8, fileLength);
    const json = new Uint8Array(headerLength);
    await readExactly(handle, json, 8, path);
    const { entries } = parseHeader(json, fileLength, only);
    const tensors: WeightMap = new Map();
    for (const e of entries) {
      const width = BYTES[e.dtype];
      if (width === undefined) throw unsupportedDtype(e.name, e.dtype);
      const data = new Float32Array(e.count);
      if (e.dtype === 'F32' && LITTLE_ENDIAN) {
        // Stored as this machine keeps float32: read straight into the array.
        await readExactly(handle, new Uint8Array(data.buffer), e.begin, path);
      } else {
        const piece = new Uint8Array(Math.min(e.count, READ_CHUNK_VALUES) * width!);
        for (let at = 0; at < e.count; at += READ_CHUNK_VALUES) {
          const n = Math.min(READ_CHUNK_VALUES, e.count - at);
          const bytes = piece.subarray(0, n * width!);
          await readExactly(handle, bytes, e.begin + at * width!, path);
          data.set(decode(e.dtype, bytes, n, e.name), at);
        }
      }
      tensors.set(e.name, { shape: e.shape, data });
    }
    return tensors;
  } finally {
    await handle.close();
  }
}

export const SAFETENSORS_FILE = 'model.safetensors';
export const SAFETENSORS_INDEX_FILE = 'model.safetensors.index.json';

/** Whether a folder has safetensors weights: model.safetensors, or a sharded index. */
export const hasFolderWeights = (folder: string): boolean =>
  existsSync(join(folder, SAFETENSORS_FILE)) || existsSync(join(folder, SAFETENSORS_INDEX_FILE));

/** A shard's name as an index may give it: a file beside the index, never a path elsewhere. */
const SHARD_NAME = /^[^/\\]+\.safetensors$/;

/**
 * The shards model.safetensors.index.json lists, each with the tensors it holds, as transformers reads
 * the index (its `weight_map`: tensor name → shard file).
 */
export function parseShardIndex(text: string): Map<string, string[]> {
  let index: unknown;
  try {
    index = JSON.parse(text);
  } catch {
    throw new SqlError('22P02', `${SAFETENSORS_INDEX_FILE} is not valid JSON`);
  }
  const map = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map) || Object.keys(map).length === 0) {
    throw new SqlError('22P02', `${SAFETENSORS_INDEX_FILE} has no weight_map naming the shard of each tensor`);
  }
  const shards = new Map<string, string[]>();
  for (const [tensor, shard] of Object.entries(map as Record<string, unknown>)) {
    if (typeof shard !== 'string' || !SHARD_NAME.test(shard)) {
      throw new SqlError('22P02', `${SAFETENSORS_INDEX_FILE} puts ${tensor} in "${String(shard)}", not a .safetensors file beside the index`);
    }
    shards.set(shard, [...(shards.get(shard) ?? []), tensor]);
  }
  return shards;
}

/**
 * The weights of a model folder: model.safetensors, or the shards listed in model.safetensors.index.json
 * (as transformers, the single file first). Every tensor the index names must be in the shard it names.
 */
export async function loadFolderWeights(folder: string, only?: (name: string) => boolean): Promise<WeightMap> {
  const single = join(folder, SAFETENSORS_FILE);
  if (existsSync(single)) return readSafetensors(single, only);
  const indexFile = join(folder, SAFETENSORS_INDEX_FILE);
  if (!existsSync(indexFile)) throw new SqlError('58P01', `${folder} has no ${SAFETENSORS_FILE} nor ${SAFETENSORS_INDEX_FILE}`);
  const weights: WeightMap = new Map();
  for (const [shard, names] of parseShardIndex(await readFile(indexFile, 'utf8'))) {
    const wanted = new Set(names.filter((n) => !only || only(n)));
    if (wanted.size === 0) continue;
    const file = join(folder, shard);
    if (!existsSync(file)) {
      throw new SqlError('58P01', `${SAFETENSORS_INDEX_FILE} lists the shard ${shard}, which ${folder} does not have`, 'copy every shard the index names into the folder (they are downloaded together)');
    }
    const got = await readSafetensors(file, (n) => wanted.has(n));
    for (const n of wanted) {
      const t = got.get(n);
      if (!t) throw new SqlError('22P02', `${SAFETENSORS_INDEX_FILE} puts ${n} in ${shard}, which does not hold it`);
      weights.set(n, t);
    }
  }
  return weights;
}
