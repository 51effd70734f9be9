import type { BackendActivity } from '../functions/context.js';
import type { TransactionStatus } from '../protocol/backend.js';

/** Postgres' track_activity_query_size: the longest query text pg_stat_activity shows. */
const MAX_QUERY_CHARS = 1024;

/** Who the session is: fixed when it starts. */
export interface SessionIdentity {
  pid: number;
  user: string;
  clientAddr: string | null;
  clientPort: number | null;
}

/** What a session is doing, as pg_stat_activity reports it. */
export class SessionActivity {
  private readonly backendStart = new Date();
  private xactStart: Date | null = null;
  private queryStart: Date | null = null;
  private stateChange = new Date();
  private running = false;
  private query = '';

  constructor(
    private readonly who: SessionIdentity,
    private readonly applicationName: () => string,
    private readonly status: () => TransactionStatus,
  ) {}

  started(sql: string): void {
    const now = new Date();
    this.query = sql.length > MAX_QUERY_CHARS ? sql.slice(0, MAX_QUERY_CHARS) : sql;
    this.queryStart = now;
    this.stateChange = now;
    this.running = true;
    if (this.status() === 'I') this.xactStart = now;
  }

  finished(): void {
    this.running = false;
    this.stateChange = new Date();
    if (this.status() === 'I') this.xactStart = null;
  }

  snapshot(): BackendActivity {
    const status = this.status();
    const state = this.running ? 'active' : status === 'T' ? 'idle in transaction' : status === 'E' ? 'idle in transaction (aborted)' : 'idle';
    return {
      ...this.who, applicationName: this.applicationName(), backendStart: this.backendStart, xactStart: this.running || status !== 'I' ? this.xactStart : null,
      queryStart: this.queryStart, stateChange: this.stateChange, state, query: this.query,
    };
  }
}
