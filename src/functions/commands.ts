import type { SqlError } from '../errors/sql-error.js';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { AiContext } from './context.js';
import type { CommandSession } from '../jobs/command-session.js';
import { macroDeclaration, parseSignature } from './signature.js';

/**
 * A registry command: called like a table function (`SELECT * FROM register_model(...)` or
 * `CALL register_model(...)`), but run by the session, because it copies files and writes the
 * registry tables, which a DuckDB callback cannot do. DuckDB evaluates the arguments (through
 * `argsMacro`, so named arguments and parameters work as anywhere), the command does its work on
 * the session's connection, and `resultSql` answers with the rows it touched.
 */
export interface ModelCommand {
  name: string;
  /**
   * The parameters, as a macro declares them: `name, source, task := NULL, ...`; a type after a name
   * is for \\df and help (`r INTEGER := 8`), the arguments are read as argsStruct casts them.
   */
  signature: string;
  /** The struct of the arguments, from the parameters of `signature`. */
  argsStruct: string;
  /** The command's answer; reads session variables the command set. */
  resultSql: string;
  /**
   * Does the command. Its database writes go inside `transaction`, which runs them as one
   * transaction, serialised with every other registry write, and reloads the registry after.
   */
  run(conn: DuckDBConnection, ai: AiContext, args: Record<string, unknown>, transaction: (writes: () => Promise<void>) => Promise<void>,
    session: CommandSession): Promise<void>;
}

/**
 * A table function that is a query written from its arguments (evaluate_retriever): the session
 * evaluates the arguments, writes the query with `toSql` and runs that in its place.
 */
export interface QueryCommand {
  name: string;
  signature: string;
  argsStruct: string;
  /**
   * Arguments that may be an expression over the columns of the query around the call
   * (`FROM questions q, LATERAL vector_search('chunks', q.text, ...)`): when the arguments cannot be
   * evaluated on their own, these are passed to toSql as SQL text, the rest evaluated.
   */
  rowArguments?: readonly string[];
  /** The query, from the evaluated arguments and, by name, the SQL of row arguments that refer to the query around it. */
  toSql(args: Record<string, unknown>, rows: Readonly<Record<string, string>>): string;
  /**
   * When a call asks for it (evaluate_retriever's `experiment =>`), its result is also recorded as a
   * run: the query runs when the statement is prepared, and the run's metrics are read from its rows.
   */
  recordedAs?(args: Record<string, unknown>): RecordedRun | null;
  /** What a DuckDB error of the query it stands for means to the user who wrote the call, if it can say. */
  explainError?(message: string): SqlError | null;
}

/** How a query command's result becomes a run of an experiment. */
export interface RecordedRun {
  experiment: string;
  /** What ran it (the command's name). */
  source: string;
  name: string | null;
  params: Record<string, string | null>;
  metrics(rows: ReadonlyArray<Record<string, unknown>>): Array<{ key: string; value: number }>;
}

/** The macro `__<name>_args(...)` that evaluates a command's arguments into JSON. */
export const argsMacro = (c: ModelCommand | QueryCommand): string =>
  `CREATE OR REPLACE MACRO __${c.name}_args(${macroDeclaration(parseSignature(c.signature))}) AS to_json(${c.argsStruct})`;
