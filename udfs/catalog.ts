import type { SqlError } from '../src/errors/sql-error.js';
import type { DuckDBConnection } from '@duckdb/node-api';
import { registerBatchFunction } from '../src/functions/batch-function.js';
import { argsMacro, type ModelCommand, type QueryCommand } from '../src/functions/commands.js';
import type { AiContext } from '../src/functions/context.js';
import type { CallRewrite, SqlFunction } from '../src/functions/sql-function.js';
import { macroDeclaration, parseSignature, pgArguments, type Parameter } from '../src/functions/signature.js';
import { sqlString } from '../src/sqltext/quote.js';
import { arrayConstructor } from './array.js';
import { aiClassify, aiClassifyScores, aiAnalyzeSentiment } from './ai_classify.js';
import { aiEmbed } from './ai_embed.js';
import { aiExtract } from './ai_extract.js';
import { aiJudge } from './ai_judge/ai_judge.js';
import { aiQuery } from './ai_query/ai_query.js';
import { aiRunningJobs } from './ai_running_jobs.js';
import { pgCancelBackend, pgNotify, pgStatActivity, pgTerminateBackend } from './pg_backends.js';
import { aiSimilarity } from './ai_similarity.js';
import { aiSummarize } from './ai_summarize.js';
import { aiTranslate } from './ai_translate.js';
import { chunkText } from './chunk_text/chunk_text.js';
import { deleteModelAlias } from './delete_model_alias.js';
import { deleteModelTag } from './delete_model_tag.js';
import { deleteModelVersion } from './delete_model_version.js';
import { evaluateRetriever } from './evaluate_retriever.js';
import { fitClassifier } from './fit_classifier.js';
import { fromJson } from './from_json.js';
import { logMetric } from './log_metric.js';
import { logRun } from './log_run.js';
import { mergeAdapter } from './merge_adapter.js';
import { namedStruct } from './named_struct.js';
import { registerModel } from './register_model.js';
import { ndcgAtK, precisionAtK, recallAtK } from './retrieval_metrics.js';
import { setModelAlias } from './set_model_alias.js';
import { setModelDescription } from './set_model_description.js';
import { setModelTag } from './set_model_tag.js';
import { trainLora } from './train_lora/train_lora.js';
import { vectorSearch } from './vector_search.js';

/**
 * Every SQL function aiduck adds to DuckDB, in one table (as DuckDB lists its built-in functions):
 * registration, the command parsing of the session, the call rewrites and the prefetch pass's list
 * are all derived from it. Adding a function means writing its file and adding it here.
 * Order matters only for registration: a macro is created after the functions it calls.
 */
export const FUNCTIONS: readonly SqlFunction[] = [
  // batch scalars: a model answers each row
  aiEmbed, aiQuery, aiClassifyScores, aiClassify, aiAnalyzeSentiment, aiSimilarity, aiSummarize, aiTranslate, aiExtract, aiJudge,
  // Databricks' spellings, rewritten into DuckDB's
  namedStruct, arrayConstructor, fromJson,
  // retrieval
  precisionAtK, recallAtK, ndcgAtK, chunkText, vectorSearch, evaluateRetriever,
  // the registry and training, run by the session as statements of their own
  registerModel, setModelAlias, deleteModelAlias, setModelTag, deleteModelTag, setModelDescription, deleteModelVersion,
  fitClassifier, trainLora, mergeAdapter,
  // experiment tracking
  logRun, logMetric,
  aiRunningJobs,
  // Postgres' session functions
  pgStatActivity, pgCancelBackend, pgTerminateBackend, pgNotify,
];

export const MODEL_COMMANDS: readonly ModelCommand[] = FUNCTIONS.flatMap((f) => (f.command ? [f.command] : []));
export const QUERY_COMMANDS: readonly QueryCommand[] = FUNCTIONS.flatMap((f) => (f.query ? [f.query] : []));

/** A query command's own words for a DuckDB error of the query a statement's call of it became, if one has them. */
export function explainQueryCommandError(err: unknown, sql: string): SqlError | null {
  const message = err instanceof Error ? err.message : String(err);
  for (const c of QUERY_COMMANDS) {
    if (!c.explainError || !sql.toLowerCase().includes(c.name)) continue;
    const explained = c.explainError(message);
    if (explained) return explained;
  }
  return null;
}

/** The functions whose calls send rows to a model: a statement calling one gets the prefetch pass. */
export const MODEL_CALLING: ReadonlySet<string> = new Set(FUNCTIONS.filter((f) => f.callsModel).map((f) => f.name));

/** The rewrites of calls that macros cannot express, by function name. */
export const CALL_REWRITES: ReadonlyMap<string, CallRewrite> = new Map(FUNCTIONS.flatMap((f) => (f.rewrite ? [[f.name, f.rewrite] as const] : [])));

/**
 * The parameters of every function that has a declaration (a macro, a command, a query command), by
 * name: what a call's arguments are checked against (rewrite/call-arguments.ts).
 */
export const PARAMETERS: ReadonlyMap<string, readonly Parameter[]> = new Map(FUNCTIONS.flatMap((f) => {
  if (f.macro) return [[f.name, parseSignature(f.macro.params)] as const];
  const command = f.command ?? f.query;
  return command ? [[f.name, commandParameters(command)] as const] : [];
}));

/** A command's parameters, typed as its signature says, else as its arguments are cast when they are evaluated (`name := name::VARCHAR`). */
function commandParameters(c: ModelCommand | QueryCommand): Parameter[] {
  return parseSignature(c.signature).map((p) => {
    const cast = new RegExp(`\\b${p.name} := ${p.name}::([A-Z]+)\\b`).exec(c.argsStruct);
    return { ...p, type: p.type ?? cast?.[1] ?? null };
  });
}

/** What \df+, \sf, obj_description and duckdb_functions().comment show of a function: its description and an example. */
export const commentOf = (f: SqlFunction): string => `${f.description}\nExample: ${f.example}`;

/**
 * A table macro under each command's name: used anywhere but as a statement of its own (where the
 * session runs it), a command says how it is called.
 */
const commandGuard = (c: ModelCommand | QueryCommand): string =>
  `CREATE OR REPLACE MACRO ${c.name}(${macroDeclaration(parseSignature(c.signature))}) AS TABLE SELECT error('${c.name} runs as a statement of its own: ` +
  `SELECT * FROM ${c.name}(...) or CALL ${c.name}(...)') AS error FROM range(1) WHERE error('${c.name} runs as a statement of its own') IS NULL`;

/** Creates every function on the engine's connection (kernels and table functions first, then the macros and views over them). */
export async function registerFunctions(conn: DuckDBConnection, ai: AiContext): Promise<void> {
  for (const f of FUNCTIONS) {
    for (const make of f.kernels ?? []) registerBatchFunction(conn, ai, make(ai));
    if (f.tableFunction) conn.registerTableFunction(f.tableFunction(ai));
  }
  for (const f of FUNCTIONS) {
    for (const stmt of f.sql ?? []) await conn.run(stmt);
    if (f.macro) {
      await conn.run(`CREATE OR REPLACE MACRO ${f.name}(${macroDeclaration(PARAMETERS.get(f.name)!)}) AS ${f.macro.body}`);
      await conn.run(`COMMENT ON MACRO ${f.name} IS ${sqlString(commentOf(f))}`);
    }
  }
  for (const c of [...MODEL_COMMANDS, ...QUERY_COMMANDS]) {
    await conn.run(argsMacro(c));
    await conn.run(commandGuard(c));
    await conn.run(`COMMENT ON MACRO TABLE ${c.name} IS ${sqlString(commentOf(FUNCTIONS.find((f) => f.name === c.name)!))}`);
  }
  await conn.run(functionsView());
}

const KINDS: Readonly<Record<SqlFunction['kind'], string>> = { scalar: 'scalar', table: 'table', 'model-command': 'command', 'query-command': 'table' };

/**
 * The view `ai.functions`: every function of this catalog with its arguments (as \df shows them,
 * typed where the type is fixed), description and example, for help in SQL and for the Postgres
 * catalog (sql/pg-catalog.sql reads the arguments from it).
 */
function functionsView(): string {
  const rows = FUNCTIONS.map((f) => {
    const params = PARAMETERS.get(f.name);
    return `(${[f.name, KINDS[f.kind], params ? pgArguments(params) : null, f.description, f.example].map((v) => (v === null ? 'NULL' : sqlString(v))).join(', ')})`;
  });
  return `CREATE OR REPLACE VIEW ai.functions AS SELECT * FROM (VALUES ${rows.join(',\n  ')}) AS f(name, kind, arguments, description, example)`;
}
