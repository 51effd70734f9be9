import type { WireError } from '../errors/wire.js';
import type { MessagePort } from 'node:worker_threads';
import type { Classification, JsonSchema, ModelSpec, ProviderNote, RowResult } from './provider.js';

/** Work for the runtime worker: one batch of one operation on one model version. */
export type RuntimeOp =
  | { op: 'embed'; spec: ModelSpec; inputs: string[] }
  /** chat: each input is the JSON of a list of chat messages (provider.ts's chatOf). */
  | { op: 'generate'; spec: ModelSpec; inputs: string[]; parameters: Record<string, unknown>; responseSchema?: JsonSchema; chat?: boolean }
  | { op: 'classify'; spec: ModelSpec; inputs: string[]; labels: string[]; multiLabel: boolean; hypothesisTemplate: string }
  | { op: 'count_tokens'; spec: ModelSpec; inputs: string[] };

/** Loads a model once, apart from the kept ones, to check it runs; an embedding model also embeds a text. */
export interface ProbeOp {
  op: 'probe';
  spec: ModelSpec;
}

export type RuntimeValue = string | Float32Array | Classification;

export type ToRuntime =
  | { t: 'call'; id: number; sid: number; work: RuntimeOp }
  | { t: 'probe'; id: number; work: ProbeOp }
  | { t: 'cancel'; sid: number }
  | { t: 'shutdown' };

export type FromRuntime =
  /** error: why the call failed as a whole; `unavailable`: the model cannot answer any row now (ModelUnavailable). */
  | { t: 'reply'; id: number; results?: Array<RowResult<RuntimeValue>>; cached?: number; error?: WireError & { unavailable?: boolean } }
  /**
   * Rows of a call finished so far (sent as each slice is done), for progress reports; `note` tells
   * what the call is doing meanwhile (its first request, a retry and why).
   */
  | { t: 'progress'; id: number; rows: number; cached: number; note?: ProviderNote }
  | { t: 'stopped' };

export interface RuntimeOptions {
  /** The engine's channel: calls come in and replies go out on it. */
  port: MessagePort;
  /** Where the result cache keeps its files; null keeps it in memory (an in-memory database). */
  cacheDir: string | null;
  /** Int32 slot the runtime bumps and notifies after every reply, for callers blocked in Atomics.wait. */
  signal: SharedArrayBuffer;
  /** Environment variables an operator allowed as endpoint API keys besides AIDUCK_KEY_*. */
  allowedKeyEnvs: string[];
}
