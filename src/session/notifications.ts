import { SqlError } from '../errors/sql-error.js';

/** A NOTIFY as a listener receives it. */
export interface Notification {
  pid: number;
  channel: string;
  payload: string;
}

/** Postgres' limit on a payload. */
const MAX_PAYLOAD_BYTES = 8000;

/**
 * LISTEN / UNLISTEN / NOTIFY of one session, as Postgres runs them: what a session notifies goes out
 * when its transaction commits (at the end of the statement outside a transaction block, at COMMIT
 * inside one; nothing when it rolls back; the same channel and payload once per transaction), and
 * reaches every session listening on the channel; a listener receives it between its statements, never
 * in the middle of a result.
 */
export class Notifications {
  private readonly channels = new Set<string>();
  private outgoing: Notification[] = [];
  private incoming: Notification[] = [];

  constructor(
    private readonly pid: number,
    /** Sends a notification to the client now. */
    private readonly send: (n: Notification) => void,
    /** Whether the session is between statements, where a notification may be sent at once. */
    private readonly idle: () => boolean,
  ) {}

  listen(channel: string): void {
    this.channels.add(channel);
  }

  /** UNLISTEN channel, or UNLISTEN * (null). */
  unlisten(channel: string | null): void {
    if (channel === null) this.channels.clear();
    else this.channels.delete(channel);
  }

  listensTo(channel: string): boolean {
    return this.channels.has(channel);
  }

  /** NOTIFY / pg_notify: held until the transaction commits. */
  notify(channel: string, payload: string): void {
    if (!channel) throw new SqlError('22023', 'channel name cannot be empty');
    if (Buffer.byteLength(payload) >= MAX_PAYLOAD_BYTES) throw new SqlError('22023', 'payload string too long');
    if (!this.outgoing.some((n) => n.channel === channel && n.payload === payload)) this.outgoing.push({ pid: this.pid, channel, payload });
  }

  /** The transaction committed: its notifications go out (to every listener, this session included, as in Postgres). */
  committed(deliver: (n: Notification) => void): void {
    const out = this.outgoing;
    this.outgoing = [];
    for (const n of out) deliver(n);
  }

  /** The transaction rolled back: its notifications are dropped. */
  rolledBack(): void {
    this.outgoing = [];
  }

  /** A notification for this session: sent now if it is between statements, else when it gets there. */
  receive(n: Notification): void {
    if (this.idle()) this.send(n);
    else this.incoming.push(n);
  }

  /** Sends what arrived while a statement ran. */
  deliverPending(): void {
    const pending = this.incoming;
    this.incoming = [];
    for (const n of pending) this.send(n);
  }
}
