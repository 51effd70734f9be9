import type { DuckDBTableFunction } from '@duckdb/node-api';
import type { Call } from '../sqltext/calls.js';
import type { Edit } from '../sqltext/statements.js';
import type { BatchFunction } from './batch-function.js';
import type { ModelCommand, QueryCommand } from './commands.js';
import type { AiContext } from './context.js';

/**
 * What kind of SQL function an entry of the catalog (udfs/catalog.ts) is:
 * - `scalar`: a macro users call per row, usually over a batch kernel (`__ai_query`) that sees
 *   whole chunks and calls the model runtime;
 * - `table`: a table function (`ai_running_jobs()`);
 * - `model-command`: a registry command run by the session as a statement of its own
 *   (`SELECT * FROM register_model(...)`, `CALL train_lora(...)`);
 * - `query-command`: a table function that stands for a query written from its arguments
 *   (`evaluate_retriever`, `vector_search`, `chunk_text`).
 */
export type SqlFunctionKind = 'scalar' | 'table' | 'model-command' | 'query-command';

/** What a call rewrite may ask of the engine while the statement is prepared. */
export interface RewriteContext {
  /** The vector length of a registered embedding model (null when unknown or not an embedder). */
  dimensionOf(model: string): number | null;
}

/**
 * A rewrite of a function's calls in statement text, for what a macro cannot express (an argument
 * that decides the result type must be known when the statement is prepared). Returns edits of the
 * statement, or none. `inner` rewrites a piece of text (an argument holding further calls) with
 * every function's rewrites.
 */
export type CallRewrite = (call: Call, sql: string, ctx: RewriteContext, inner: (text: string) => string) => Edit[];

/**
 * The macro users call: its parameters as DuckDB declares them, typed where the type is fixed
 * (`model VARCHAR, request, modelParameters := NULL, failOnError BOOLEAN := true`), and its body.
 * The parameters are also what a call is checked against (names, how many by position).
 */
export interface MacroDefinition {
  params: string;
  body: string;
}

/** One SQL function of aiduck: everything that defines it, in the file that implements it. */
export interface SqlFunction {
  name: string;
  kind: SqlFunctionKind;
  /** One line for users (shown by `\df+`, `\sf`, `obj_description` and `duckdb_functions().comment`). */
  description: string;
  /** A statement that shows a call, shown with the description. */
  example: string;
  /** kind 'scalar': the macro under the function's name, created after `sql`. */
  macro?: MacroDefinition;
  /** DuckDB statements that create the rest of its SQL surface (helper macros, views), run at start-up before the macro. */
  sql?: readonly string[];
  /** The batch kernels its macros call, registered as scalar functions. */
  kernels?: ReadonlyArray<(ai: AiContext) => BatchFunction>;
  tableFunction?: (ai: AiContext) => DuckDBTableFunction;
  /** kind 'model-command': the command the session runs. */
  command?: ModelCommand;
  /** kind 'query-command': the query it stands for. */
  query?: QueryCommand;
  /** A call sends rows to a model: a statement calling it gets the prefetch pass. */
  callsModel?: boolean;
  rewrite?: CallRewrite;
}
