import { SqlError, type ErrorFields } from './sql-error.js';

/**
 * How an error crosses a thread boundary (worker_threads messages): a plain object that survives
 * structured cloning and keeps the SQLSTATE. Every hop encodes with `toWire` and decodes with
 * `fromWire`; anything that is not an SqlError becomes an internal error (XX000) saying where it
 * happened.
 */
export interface WireError {
  code: string;
  message: string;
  hint?: string;
  fields?: ErrorFields;
}

export function toWire(err: unknown, where?: string): WireError {
  if (err instanceof SqlError) {
    return { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}), ...(Object.keys(err.fields).length ? { fields: err.fields } : {}) };
  }
  const text = err instanceof Error ? err.message : String(err);
  return { code: 'XX000', message: where ? `${where} failed: ${text}` : text };
}

export const fromWire = (w: WireError): SqlError => new SqlError(w.code, w.message, w.hint, w.fields ?? {});

/**
 * DuckDB's callbacks (scalar functions) can report a failure only as a string, which reaches the
 * session inside DuckDB's own error text: the SQLSTATE and hint travel with the message, and
 * `fromDuckDB` (duckdb.ts) reads them back.
 */
export function toDuckDBText(err: unknown): string {
  if (!(err instanceof SqlError)) return err instanceof Error ? err.message : String(err);
  return `[SQLSTATE ${err.code}] ${err.message}${err.hint ? `\nHINT: ${err.hint}` : ''}`;
}

/** The form toDuckDBText writes, behind DuckDB's own "<Class> Error: " prefix. */
export const DUCKDB_CARRIED = /^(?:[A-Za-z ]+ Error: )?\[SQLSTATE ([0-9A-Z]{5})\] ([^\n]*)(?:\nHINT: ([\s\S]*))?$/;
