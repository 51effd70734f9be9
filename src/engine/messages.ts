/** Messages between the server thread and the engine worker. */
import type { PgNotice } from '../protocol/backend.js';

export interface SessionStart {
  user: string;
  database: string;
  applicationName: string;
  /** Settings from the startup parameters and `options` (protocol/startup-settings.ts), applied before the session answers. */
  settings: Array<[string, string]>;
  /** The client's address and port (null over a Unix socket). */
  clientAddr: string | null;
  clientPort: number | null;
}

export type ToEngine =
  | { t: 'open'; sid: number; start: SessionStart }
  /** `cancels`: the session's cancel count when the data arrived (a cancel after it is meant for what it holds). */
  | { t: 'input'; sid: number; data: Uint8Array; cancels: number }
  | { t: 'ack'; sid: number; bytes: number }
  | { t: 'cancel'; sid: number }
  | { t: 'close'; sid: number }
  | { t: 'shutdown' };

export type FromEngine =
  | { t: 'ready'; error?: string; cancelFlags?: SharedArrayBuffer }
  | { t: 'opened'; sid: number; error?: PgNotice; parameters?: Array<[string, string]> }
  | { t: 'out'; sid: number; data: Uint8Array }
  | { t: 'consumed'; sid: number; bytes: number }
  | { t: 'end'; sid: number }
  | { t: 'stopped' };
