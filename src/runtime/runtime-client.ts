import { MessageChannel, receiveMessageOnPort, SHARE_ENV, Worker, type MessagePort } from 'node:worker_threads';
import { fromWire } from '../errors/wire.js';
import type { FromRuntime, ProbeOp, RuntimeOp, RuntimeOptions, RuntimeValue, ToRuntime } from './messages.js';
import type { RowResult } from './provider.js';

export interface RuntimeReply {
  results: Array<RowResult<RuntimeValue>>;
  /** How many rows came from the result cache. */
  cached: number;
}

/** Thrown out of a blocking call when the caller gave up waiting (cancel or timeout). */
export class CallAbandoned extends Error {}

const WAIT_SLICE_MS = 25;

/**
 * The engine's handle on the model runtime thread. DuckDB calls SQL functions synchronously,
 * so `callSync` blocks this thread until the runtime replies, checking between short waits
 * whether the caller wants to stop; `call` is the same request for async code.
 */
export class RuntimeClient {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly signal: Int32Array;
  private nextId = 1;
  private readonly pending = new Map<number, (m: FromRuntime & { t: 'reply' }) => void>();
  private readonly onProgress = new Map<number, (rows: number, cached: number) => void>();
  private readonly stopped: Promise<void>;
  private onStopped!: () => void;

  constructor(cacheDir: string | null, allowedKeyEnvs: readonly string[] = []) {
    const { port1, port2 } = new MessageChannel();
    const shared = new SharedArrayBuffer(4);
    this.signal = new Int32Array(shared);
    this.port = port1;
    const options: RuntimeOptions = { port: port2, cacheDir, signal: shared, allowedKeyEnvs: [...allowedKeyEnvs] };
    this.worker = new Worker(new URL('./runtime-worker.js', import.meta.url), { workerData: options, transferList: [port2], env: SHARE_ENV });
    this.worker.on('error', (err) => {
      for (const resolve of this.pending.values()) resolve({ t: 'reply', id: 0, error: { code: 'XX000', message: `the model runtime failed: ${err.message}` } });
      this.pending.clear();
    });
    this.stopped = new Promise((r) => (this.onStopped = r));
    this.port.on('message', (m: FromRuntime) => this.deliver(m));
    this.worker.unref();
    this.port.unref();
  }

  private deliver(m: FromRuntime): void {
    if (m.t === 'stopped') return this.onStopped();
    if (m.t === 'progress') return this.onProgress.get(m.id)?.(m.rows, m.cached);
    const resolve = this.pending.get(m.id);
    this.pending.delete(m.id);
    this.onProgress.delete(m.id);
    resolve?.(m);
  }

  private post(message: ToRuntime & { id: number }, onProgress?: (rows: number, cached: number) => void): Promise<FromRuntime & { t: 'reply' }> {
    const reply = new Promise<FromRuntime & { t: 'reply' }>((resolve) => this.pending.set(message.id, resolve));
    if (onProgress) this.onProgress.set(message.id, onProgress);
    this.port.postMessage(message);
    return reply;
  }

  /** Runs a batch; `onProgress` hears of its rows as they finish (cached ones first). */
  async call(sid: number, work: RuntimeOp, onProgress?: (rows: number, cached: number) => void): Promise<RuntimeReply> {
    return unwrap(await this.post({ t: 'call', id: this.nextId++, sid, work }, onProgress));
  }

  /** Loads a model once to check it runs; an embedding model's vector length, else 0. */
  async probe(work: ProbeOp): Promise<number> {
    const reply = unwrap(await this.post({ t: 'probe', id: this.nextId++, work }));
    const r = reply.results[0];
    return r?.ok ? Number(r.value) : 0;
  }

  /** Blocks until the runtime answers; `shouldStop` is asked every few milliseconds. */
  callSync(sid: number, work: RuntimeOp, shouldStop: () => string | null, onProgress?: (rows: number, cached: number) => void): RuntimeReply {
    const id = this.nextId++;
    void this.post({ t: 'call', id, sid, work }, onProgress);
    let answer: (FromRuntime & { t: 'reply' }) | undefined;
    this.pending.set(id, (m) => (answer = m));
    for (;;) {
      const seen = Atomics.load(this.signal, 0);
      for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) this.deliver(m.message as FromRuntime);
      if (answer) return unwrap(answer);
      const reason = shouldStop();
      if (reason) {
        this.pending.delete(id);
        this.onProgress.delete(id);
        this.cancel(sid);
        throw new CallAbandoned(reason);
      }
      Atomics.wait(this.signal, 0, seen, WAIT_SLICE_MS);
    }
  }

  cancel(sid: number): void {
    this.port.postMessage({ t: 'cancel', sid } satisfies ToRuntime);
  }

  async stop(): Promise<void> {
    this.port.postMessage({ t: 'shutdown' } satisfies ToRuntime);
    await Promise.race([this.stopped, new Promise((r) => setTimeout(r, 2000))]);
    await this.worker.terminate();
  }
}

function unwrap(m: FromRuntime & { t: 'reply' }): RuntimeReply {
  if (m.error !== undefined) throw fromWire(m.error);
  return { results: m.results ?? [], cached: m.cached ?? 0 };
}
