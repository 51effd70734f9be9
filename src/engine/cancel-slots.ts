/**
 * The cancel counters the server thread bumps and the engine thread reads while it is blocked in a
 * model call: one slot per open session, never shared. A slot is taken by the server thread when it
 * opens a session and given back when the engine has ended it, so a cancel (or a dropped
 * connection) reaches only the session it was meant for, whatever the pids.
 *
 * Layout of the shared buffer: `capacity` counters, then `capacity` owner pids (0: free).
 */
export class CancelSlots {
  private readonly counters: Int32Array;
  private readonly owners: Int32Array;
  /** Server thread only: the slot of each session that holds one. */
  private readonly slotOf = new Map<number, number>();

  constructor(readonly buffer: SharedArrayBuffer) {
    const capacity = buffer.byteLength / 8;
    this.counters = new Int32Array(buffer, 0, capacity);
    this.owners = new Int32Array(buffer, capacity * 4, capacity);
  }

  static create(capacity: number): CancelSlots {
    return new CancelSlots(new SharedArrayBuffer(capacity * 8));
  }

  /** Server thread: takes a free slot for a session; false when every slot is taken. */
  take(sid: number): boolean {
    if (this.slotOf.has(sid)) return true;
    for (let i = 0; i < this.owners.length; i++) {
      if (Atomics.load(this.owners, i) === 0) {
        Atomics.store(this.owners, i, sid);
        this.slotOf.set(sid, i);
        return true;
      }
    }
    return false;
  }

  /** Server thread: the engine has ended the session; its slot may go to another. */
  release(sid: number): void {
    const i = this.slotOf.get(sid);
    if (i === undefined) return;
    this.slotOf.delete(sid);
    Atomics.store(this.owners, i, 0);
  }

  /** Server thread: counts a cancel for the session, if it holds a slot. */
  bump(sid: number): void {
    const i = this.slotOf.get(sid);
    if (i !== undefined) Atomics.add(this.counters, i, 1);
  }

  /** Server thread: how many cancels the session has had so far (0 without a slot). */
  count(sid: number): number {
    const i = this.slotOf.get(sid);
    return i === undefined ? 0 : Atomics.load(this.counters, i);
  }

  /**
   * Engine thread: the session's own counter, as a one-element view (the session reads element
   * 0). Looked up once, when the session opens; null if the server thread gave it no slot.
   */
  counterOf(sid: number): Int32Array | null {
    for (let i = 0; i < this.owners.length; i++) {
      if (Atomics.load(this.owners, i) === sid) return new Int32Array(this.buffer, i * 4, 1);
    }
    return null;
  }
}
