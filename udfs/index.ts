import type { DuckDBConnection } from '@duckdb/node-api';
import { registerBatchFunction, type AiContext } from '../src/functions/context.js';
import type { ModelCommand, QueryCommand } from '../src/functions/commands.js';
import { chunkTextCommand } from './chunk_text.js';
import { evaluateRetrieverCommand } from './evaluate_retriever.js';
import { fitClassifierCommand } from './fit_classifier.js';
import { vectorSearchCommand } from './vector_search.js';
import { aiClassify } from './ai_classify.js';
import { aiEmbed } from './ai_embed.js';
import { aiJudge } from './ai_judge/ai_judge.js';
import { aiTokenChunks } from './ai_token_chunks.js';
import { aiQuery } from './ai_query/ai_query.js';
import { aiRunningJobs } from './ai_running_jobs.js';
import { deleteModelAliasCommand } from './delete_model_alias.js';
import { registerModelCommand } from './register_model.js';
import { setModelAliasCommand } from './set_model_alias.js';
import { trainLoraCommand } from './train_lora/train_lora.js';
import { mergeAdapterCommand } from './merge_adapter.js';

/** The batch functions behind ai_embed, ai_query and ai_classify (see sql/ai-functions.sql). */
export function registerAiFunctions(conn: DuckDBConnection, ai: AiContext): void {
  for (const make of [aiEmbed, aiQuery, aiClassify, aiJudge, aiTokenChunks]) registerBatchFunction(conn, ai, make(ai));
  conn.registerTableFunction(aiRunningJobs(ai));
}

export const MODEL_COMMANDS: readonly ModelCommand[] = [registerModelCommand, setModelAliasCommand, deleteModelAliasCommand, fitClassifierCommand, trainLoraCommand, mergeAdapterCommand];

export const QUERY_COMMANDS: readonly QueryCommand[] = [evaluateRetrieverCommand, vectorSearchCommand, chunkTextCommand];
