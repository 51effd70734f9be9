/**
 * The one interface every model runtime implements: a batch of inputs in, a batch of per-row
 * results out. A row that fails carries its error; the other rows of the batch still count.
 */
import { SqlError } from '../errors/sql-error.js';
import type { SentenceEmbedding } from '../llm/sentence-embedding.js';

export type { SentenceEmbedding };

/** What a registered model does; decides which provider method the SQL functions call. */
export const TASKS = [
  'chat',
  'completion',
  'text-generation',
  'text2text-generation',
  'summarization',
  'embedding',
  'zero-shot-classification',
  'text-classification',
] as const;
export type Task = (typeof TASKS)[number];

export type ProviderKind = 'onnx' | 'openai' | 'builtin' | 'fewshot' | 'llama' | 'lora';

/** A resolved model version, as the registry hands it to a provider. */
export interface ModelSpec {
  name: string;
  version: number;
  task: Task;
  provider: ProviderKind;
  /**
   * onnx, llama: the artifact folder (Hugging Face layout); lora: the PEFT adapter folder; openai: the
   * base URL; builtin: the builtin name.
   */
  location: string;
  /** lora: the base model version the adapter runs on. */
  base?: { uri: string; location: string };
  /** openai: the model name at the endpoint. */
  endpointModel?: string;
  /** openai: the environment variable holding the API key, read at call time, never stored. */
  apiKeyEnv?: string;
  /** Provider options given at registration (they change how, not what, a model answers). */
  options?: Record<string, string>;
  /**
   * Embedding models from a folder: how token states become the text's vector (the folder's
   * sentence-transformers pooling, read at registration; absent for versions registered before it
   * was recorded, which are mean-pooled and normalised).
   */
  embedding?: SentenceEmbedding;
}

export type RowResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** A JSON schema object, as OpenAI's `response_format: { type: 'json_schema' }` takes it. */
export type JsonSchema = Record<string, unknown>;

/**
 * What a provider tells about a call while it runs, for the client's progress NOTICEs: 'start' when
 * its first request goes out (where to, how many at a time), 'retry' when a request is tried again
 * (after what, which attempt, when).
 */
export interface ProviderNote {
  kind: 'start' | 'retry';
  text: string;
}

export type NoteListener = (note: ProviderNote) => void;

/**
 * The model cannot answer any row now (its endpoint refuses connections, does not resolve, refuses
 * the key, does not know the model): the call fails as a whole with this SQLSTATE, whatever
 * failOnError says, and the rest of the statement does not ask that model again.
 */
export class ModelUnavailable extends SqlError {}

/** One turn of a conversation, as chat endpoints and chat templates take it. */
export interface ChatMessage {
  role: string;
  content: string;
}

/** A chat request's input: the JSON of its messages (see GenerateOptions.chat). */
export const chatOf = (input: string): ChatMessage[] => JSON.parse(input) as ChatMessage[];

export interface GenerateOptions {
  /** Passed through to the model: temperature, max_tokens, top_p, ... */
  parameters: Record<string, unknown>;
  /** Each input is a conversation (the JSON of a ChatMessage list, read with chatOf), not a text. */
  chat?: boolean;
  /** When set, every answer must be JSON conforming to this schema. */
  responseSchema?: JsonSchema;
  signal?: AbortSignal;
  onNote?: NoteListener;
}

export interface ClassifyOptions {
  labels: string[];
  multiLabel: boolean;
  /** Zero-shot only: the NLI hypothesis, with `{}` where the label goes. */
  hypothesisTemplate: string;
  signal?: AbortSignal;
}

/** Scores of each label for one input, best first. */
export interface Classification {
  labels: string[];
  scores: number[];
}

export interface Provider {
  /** Text in, text out (chat, completion, text generation, summarization, text2text). */
  generate?(inputs: string[], options: GenerateOptions): Promise<Array<RowResult<string>>>;
  /** Text in, one vector out per row; every vector of a model has the same length. */
  embed?(inputs: string[], signal?: AbortSignal, onNote?: NoteListener): Promise<Array<RowResult<Float32Array>>>;
  /** Text in, label scores out. */
  classify?(inputs: string[], options: ClassifyOptions): Promise<Array<RowResult<Classification>>>;
  /** How many tokens of the model's tokenizer each text is (no special tokens), as text. */
  countTokens?(inputs: string[]): Promise<Array<RowResult<string>>>;
  /** Releases sessions, sockets and memory. */
  close(): Promise<void>;
}
