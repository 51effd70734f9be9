/** What a long command (train_lora) can do with the session running it. */
export interface CommandSession {
  sid: number;
  /** Why the command must stop (cancel, statement_timeout, client gone), or null. */
  stopReason(): string | null;
  /** Sends the client a NOTICE now. */
  notice(message: string): void;
  /** Records progress for ai.running_jobs (and a NOTICE every few seconds). */
  progress(fn: string, model: string, rows: number, cached: number): void;
}
