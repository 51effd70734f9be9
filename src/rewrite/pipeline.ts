import type { RewriteContext } from '../functions/sql-function.js';
import { rewriteDumpForms } from './dump-forms.js';
import { rewriteFunctionCalls } from './function-calls.js';
import { namePgColumns } from './column-names.js';
import { rewritePgCatalog } from './pg-catalog.js';
import { typeAnyParameters } from './any-parameter.js';
import { rewritePgLiterals } from './pg-literals.js';
import { rewriteNumericTypes } from './pg-numeric.js';
import { rewriteVarcharLengths } from './pg-varchar.js';
import { expandQueryCommands, type EvaluateArguments, type RunAndRecord } from './query-commands.js';
import { typeUntypedLiterals, type ParameterTypes } from './untyped-literals.js';
import { writeOutDataFileTarget } from './data-file-target.js';

/** What the passes need from the session preparing the statement. */
export interface PipelineContext extends RewriteContext {
  evaluateArguments: EvaluateArguments;
  runAndRecord: RunAndRecord;
  parameterTypes: ParameterTypes;
  /** The server's <data>/files, the directory data_file() names. */
  filesDir: string;
}

/**
 * The text DuckDB prepares for a statement a client sent. The passes run in this order, each a
 * file with its own tests:
 * 0. column-names: the unaliased items of the statement's select list named as Postgres names
 *    them (`count`, not `count_star()`), from the text the client wrote; then dump-forms: the
 *    forms of pg_dump scripts DuckDB lacks (`ALTER TABLE ONLY`, `nextval('s'::regclass)`, CREATE
 *    SEQUENCE's `AS integer` and `CACHE`, `USING btree`, `PREPARE name(type)`, macros dumped as functions);
 * 1. pg-numeric, pg-varchar and pg-literals: `numeric` without a precision as aiduck's unconstrained
 *    numeric (pg/numeric.ts), a varchar(n) column's length as a check; typed string literals in Postgres' text forms (bytea, arrays, intervals,
 *    booleans, dates) and E'' strings, as DuckDB reads the same values;
 * 2. pg-catalog: the catalog queries of psql, pgJDBC, psycopg, ... in the SQL DuckDB accepts
 *    (`::regclass`, `OPERATOR(pg_catalog.~)`, `pg_catalog.` names, ...);
 * 3. function-calls: the rewrites the SQL functions of the catalog (udfs/catalog.ts) declare,
 *    such as ai_query's responseFormat and ai_embed's FLOAT[n];
 * 4. query-commands: evaluate_retriever, vector_search and chunk_text become the queries they
 *    stand for (which go through pass 3 in turn);
 * 5. any-parameter: an array parameter in `x = ANY($1)` cast to the list type DuckDB gives x; then
 *    untyped-literals: string literals whose type only the context gives (`INSERT ... VALUES
 *    ('\x00ff01')` into bytea, `'{a,b}'` into text[]) as DuckDB reads the value Postgres reads;
 * 6. data-file-target: `COPY ... TO (data_file('name'))` with the path written out, for the check
 *    of where COPY writes (pg/copy-target.ts), which reads literals only.
 * Statements the session answers itself (SET, BEGIN, COPY ...) and registry commands never get here.
 */
export async function rewrite(sql: string, ctx: PipelineContext): Promise<string> {
  const calls = (text: string): string => rewriteFunctionCalls(text, ctx);
  const text = calls(rewritePgCatalog(rewritePgLiterals(rewriteVarcharLengths(rewriteNumericTypes(rewriteDumpForms(namePgColumns(sql)))))));
  const expanded = await expandQueryCommands(text, ctx.evaluateArguments, calls, ctx.runAndRecord);
  const typed = await typeUntypedLiterals(await typeAnyParameters(expanded, ctx.parameterTypes), ctx.parameterTypes);
  return writeOutDataFileTarget(typed, ctx.filesDir);
}
