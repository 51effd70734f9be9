import { SHARE_ENV, Worker } from 'node:worker_threads';
import * as msg from '../protocol/backend.js';
import type { PgNotice } from '../protocol/backend.js';
import { MessageWriter } from '../protocol/writer.js';
import { CancelSlots } from './cancel-slots.js';
import type { EngineOptions } from './options.js';
import type { FromEngine, SessionStart, ToEngine } from './messages.js';

const ACK_BATCH_BYTES = 256 * 1024;
const ACK_DELAY_MS = 5;

/** The server thread's side of one session in the engine. */
export interface SessionHandlers {
  opened(error: PgNotice | undefined, parameters: Array<[string, string]>): void;
  output(data: Buffer): void;
  consumed(bytes: number): void;
  ended(): void;
}

/** Starts the engine worker and routes messages between it and the sessions on this thread. */
export class EngineClient {
  private readonly worker: Worker;
  private readonly handlers = new Map<number, SessionHandlers>();
  private stopped: Promise<void> | null = null;
  private pendingAcks = new Map<number, number>();
  private ackTimer: NodeJS.Timeout | null = null;

  /** Set when the engine thread died: its sessions are gone and new ones are refused. */
  private failure: string | null = null;
  private failureListeners: Array<(reason: string) => void> = [];

  /** Cancel counters shared with the engine, so a cancel reaches a session blocked in a model call. */
  private readonly cancelSlots: CancelSlots;

  private constructor(worker: Worker, cancelFlags: SharedArrayBuffer) {
    this.worker = worker;
    this.cancelSlots = new CancelSlots(cancelFlags);
    worker.on('message', (m: FromEngine) => this.dispatch(m));
    worker.on('error', (err) => this.fail(err.message));
    worker.on('exit', (code) => {
      if (!this.stopped) this.fail(`engine thread exited with code ${code}`);
    });
  }

  /** Ends every session's connection rather than leaving clients waiting on a dead engine. */
  private fail(reason: string): void {
    if (this.failure) return;
    this.failure = reason;
    console.error(`aiduck: the engine failed: ${reason}`);
    const all = [...this.handlers.values()];
    for (const sid of this.handlers.keys()) this.cancelSlots.release(sid);
    this.handlers.clear();
    const w = new MessageWriter(256);
    msg.errorResponse(w, { severity: 'FATAL', code: '57P01', message: `terminating connection: the engine stopped (${reason})`, hint: 'reconnect once the server is running again' });
    const fatal = w.take();
    for (const h of all) {
      h.output(fatal);
      h.ended();
    }
    for (const l of this.failureListeners) l(reason);
  }

  /**
   * Called once if the engine thread dies (out of memory, a crash): the server cannot go on
   * without it, and says so rather than answering every login with an error.
   */
  onFailure(listener: (reason: string) => void): void {
    if (this.failure) listener(this.failure);
    else this.failureListeners.push(listener);
  }

  static start(options: EngineOptions): Promise<EngineClient> {
    const heapMb = options.heapLimitMb;
    const worker = new Worker(new URL('./worker.js', import.meta.url), {
      workerData: options, env: SHARE_ENV, ...(heapMb ? { resourceLimits: { maxOldGenerationSizeMb: heapMb } } : {}),
    });
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      worker.once('error', onError);
      worker.once('message', (m: FromEngine) => {
        worker.off('error', onError);
        if (m.t !== 'ready') return reject(new Error(`engine sent ${m.t} before ready`));
        if (m.error) return reject(new Error(m.error));
        resolve(new EngineClient(worker, m.cancelFlags!));
      });
    });
  }

  private dispatch(m: FromEngine): void {
    if (m.t === 'ready' || m.t === 'stopped') return;
    const h = this.handlers.get(m.sid);
    if (!h) return;
    switch (m.t) {
      case 'opened':
        if (m.error) this.forget(m.sid);
        h.opened(m.error, m.parameters ?? []);
        break;
      case 'out': h.output(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength)); break;
      case 'consumed': h.consumed(m.bytes); break;
      case 'end':
        this.forget(m.sid);
        h.ended();
        break;
    }
  }

  /** The engine is done with the session: its handlers and its cancel slot go. */
  private forget(sid: number): void {
    this.handlers.delete(sid);
    this.cancelSlots.release(sid);
  }

  private send(m: ToEngine, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(m, transfer ?? []);
  }

  open(sid: number, start: SessionStart, handlers: SessionHandlers): void {
    if (this.failure) {
      handlers.opened({ severity: 'FATAL', code: '57P01', message: `the engine is not running (${this.failure}); restart aiduck` }, []);
      return;
    }
    if (!this.cancelSlots.take(sid)) {
      handlers.opened({ severity: 'FATAL', code: '53300', message: 'sorry, too many clients already' }, []);
      return;
    }
    this.handlers.set(sid, handlers);
    this.send({ t: 'open', sid, start });
  }

  input(sid: number, data: Buffer): void {
    const copy = new Uint8Array(data);
    this.send({ t: 'input', sid, data: copy, cancels: this.cancelSlots.count(sid) }, [copy.buffer as ArrayBuffer]);
  }

  /**
   * Output written to a socket is acknowledged in batches: at once past 256 KiB, otherwise after a
   * few milliseconds, so a stream of small answers does not cost a message each.
   */
  ack(sid: number, bytes: number): void {
    const pending = (this.pendingAcks.get(sid) ?? 0) + bytes;
    if (pending >= ACK_BATCH_BYTES) {
      this.pendingAcks.delete(sid);
      this.send({ t: 'ack', sid, bytes: pending });
      return;
    }
    this.pendingAcks.set(sid, pending);
    this.ackTimer ??= setTimeout(() => {
      this.ackTimer = null;
      for (const [s, b] of this.pendingAcks) this.send({ t: 'ack', sid: s, bytes: b });
      this.pendingAcks.clear();
    }, ACK_DELAY_MS);
  }

  cancel(sid: number): void {
    this.cancelSlots.bump(sid);
    this.send({ t: 'cancel', sid });
  }

  close(sid: number): void {
    this.cancelSlots.bump(sid);
    this.send({ t: 'close', sid });
  }

  /** Closes every session and the database; resolves when the worker has exited. */
  stop(): Promise<void> {
    if (this.failure) return Promise.resolve();
    this.stopped ??= new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.on('message', (m: FromEngine) => {
        if (m.t === 'stopped') void this.worker.terminate();
      });
      this.send({ t: 'shutdown' });
    });
    return this.stopped;
  }
}
