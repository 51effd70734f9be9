import { env, pipeline, type Tensor } from '@huggingface/transformers';
import { applyFolderChatTemplate } from '../../llm/chat-template.js';
import { DEFAULT_SENTENCE_EMBEDDING } from '../../llm/sentence-embedding.js';
import { poolBatch } from '../../llm/sentence-pooling.js';
import { chatOf, type Classification, type ClassifyOptions, type GenerateOptions, type ModelSpec, type Provider, type RowResult } from '../provider.js';

// Models come from the artifact store only: nothing is fetched while inference runs.
env.allowRemoteModels = false;
env.allowLocalModels = true;

/** Texts per model call; inputs are sorted by length first, so a sub-batch pads little. */
const EMBED_BATCH = 64;
const NLI_BATCH = 64;

type Pipe = Awaited<ReturnType<typeof pipeline>>;
interface NliModel {
  tokenizer: ((a: string[] | string, o: Record<string, unknown>) => Record<string, Tensor>) & {
    model_max_length?: number;
    decode(ids: number[], o: Record<string, unknown>): string;
  };
  model: (inputs: Record<string, Tensor>) => Promise<{ logits: Tensor }>;
}

const PIPELINE_TASK = {
  embedding: 'feature-extraction',
  'zero-shot-classification': 'zero-shot-classification',
  'text-classification': 'text-classification',
  'text-generation': 'text-generation',
  chat: 'text-generation',
  completion: 'text-generation',
  summarization: 'summarization',
  'text2text-generation': 'text2text-generation',
} as const;

/** Indices of inputs ordered by length, so each sub-batch holds texts of similar size. */
const byLength = (inputs: string[]): number[] => inputs.map((_, i) => i).sort((a, b) => inputs[a]!.length - inputs[b]!.length);

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Runs a sub-batch; when the batch as a whole fails, runs its rows one by one so that only the
 * row at fault carries the error.
 */
async function perRowOnFailure<T>(rows: string[], run: (texts: string[]) => Promise<T[]>): Promise<Array<RowResult<T>>> {
  try {
    return (await run(rows)).map((value) => ({ ok: true, value }));
  } catch (err) {
    if (rows.length === 1) return [{ ok: false, error: message(err) }];
    const out: Array<RowResult<T>> = [];
    for (const r of rows) out.push(...(await perRowOnFailure([r], run)));
    return out;
  }
}

/** Splits inputs into length-sorted sub-batches, runs them in order and restores the input order. */
async function inSortedBatches<T>(inputs: string[], size: number, signal: AbortSignal | undefined,
  run: (texts: string[]) => Promise<T[]>): Promise<Array<RowResult<T>>> {
  const order = byLength(inputs);
  const results = new Array<RowResult<T>>(inputs.length);
  for (let start = 0; start < order.length; start += size) {
    signal?.throwIfAborted();
    const idx = order.slice(start, start + size);
    const got = await perRowOnFailure(idx.map((i) => inputs[i]!), run);
    idx.forEach((i, j) => (results[i] = got[j]!));
  }
  return results;
}

/** A Hugging Face folder run by transformers.js on onnxruntime-node, loaded once. */
export async function createOnnxProvider(spec: ModelSpec): Promise<Provider> {
  const task = PIPELINE_TASK[spec.task];
  const threads = Number(process.env['AIDUCK_MODEL_THREADS'] ?? 0);
  const sessionOptions = threads > 0 ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {};
  const pipe: Pipe = await pipeline(task, spec.location, { dtype: 'fp32', device: 'cpu', session_options: sessionOptions } as Record<string, unknown>);
  const call = pipe as unknown as (...args: unknown[]) => Promise<unknown>;
  const tokenizer = (pipe as unknown as { tokenizer?: NliModel['tokenizer'] }).tokenizer;
  // transformers.js reads the chat template from tokenizer_config.json only; transformers 5 writes chat_template.jinja.
  if (tokenizer) applyFolderChatTemplate(tokenizer, spec.location);
  const provider: Provider = { close: async () => { await pipe.dispose(); } };
  if (tokenizer) {
    provider.countTokens = async (inputs) => inputs.map((t) => ({
      ok: true, value: String((tokenizer(t, { add_special_tokens: false })['input_ids']!.dims.at(-1)) ?? 0),
    }));
  }

  if (spec.task === 'embedding') {
    // The pipeline's tokenizer and model, then the folder's pooling and normalisation in one pass
    // (what sentence-transformers' encode does; mean + normalise for a folder without its modules).
    const encoder = pipe as unknown as { tokenizer: NliModel['tokenizer']; model: (inputs: Record<string, Tensor>) => Promise<Record<string, Tensor | undefined>> };
    const e = spec.embedding ?? DEFAULT_SENTENCE_EMBEDDING;
    const asModelSees = (text: string): string => {
      const prompted = (e.prompt ?? '') + text;
      return e.lowercase ? prompted.toLowerCase() : prompted;
    };
    const limits = { padding: true, truncation: true, ...(e.maxSeqLength === null ? {} : { max_length: e.maxSeqLength }) };
    // As sentence-transformers: the prompt's tokens, less the closing special token, leave the pooling when include_prompt is false.
    const promptTokens = e.prompt !== null && !e.includePrompt
      ? Number(encoder.tokenizer([asModelSees('')], limits)['input_ids']!.dims.at(-1) ?? 1) - 1
      : 0;
    provider.embed = (inputs, signal) => inSortedBatches(inputs, EMBED_BATCH, signal, async (texts) => {
      const enc = encoder.tokenizer(texts.map(asModelSees), limits);
      const out = await encoder.model(enc);
      const hidden = out['last_hidden_state'] ?? out['token_embeddings'] ?? out['logits'];
      if (!hidden) throw new Error('the model has no last_hidden_state output');
      const [rows, tokens, dim] = hidden.dims as [number, number, number];
      return poolBatch(hidden.data as Float32Array, rows, tokens, dim, enc['attention_mask']!.data as BigInt64Array, e, promptTokens);
    });
  }

  if (spec.task === 'zero-shot-classification') {
    const nli = pipe as unknown as NliModel & { model: { config: { label2id?: Record<string, number> } } };
    const label2id = Object.fromEntries(Object.entries(nli.model.config.label2id ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const entail = label2id['entailment'] ?? 2;
    const contra = label2id['contradiction'] ?? 0;
    const classes = Object.keys(label2id).length || 3;
    // Pairs are truncated from the end, so an overlong premise would push the hypothesis out and
    // every label would score alike: long premises are cut to leave room for it.
    const maxTokens = Math.min(nli.tokenizer.model_max_length ?? 512, 4096) - 64;
    const clip = (text: string): string => {
      if (text.length <= maxTokens * 2) return text;
      const head = text.slice(0, maxTokens * 16);
      const ids = Array.from(nli.tokenizer(head, { add_special_tokens: false, truncation: true, max_length: maxTokens })['input_ids']!.data as BigInt64Array, Number);
      return nli.tokenizer.decode(ids, { skip_special_tokens: true });
    };
    provider.classify = async (inputs, options: ClassifyOptions) => {
      const { labels, multiLabel, hypothesisTemplate } = options;
      const hypotheses = labels.map((l) => hypothesisTemplate.replace('{}', l));
      const perPremise = Math.max(1, Math.floor(NLI_BATCH / labels.length));
      // One model call scores every (text, label) pair of a sub-batch of texts.
      return inSortedBatches(inputs, perPremise, options.signal, async (texts): Promise<Classification[]> => {
        const premises = texts.map(clip).flatMap((t) => hypotheses.map(() => t));
        const pairs = texts.flatMap(() => hypotheses);
        const enc = nli.tokenizer(premises, { text_pair: pairs, padding: true, truncation: true });
        const logits = (await nli.model(enc)).logits.data as Float32Array;
        return texts.map((_, ti) => {
          const row = (li: number): number => (ti * labels.length + li) * classes;
          const scores = multiLabel || labels.length === 1
            ? labels.map((_, li) => 1 / (1 + Math.exp(logits[row(li) + contra]! - logits[row(li) + entail]!)))
            : softmax(labels.map((_, li) => logits[row(li) + entail]!));
          const order = scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]);
          return { labels: order.map(([, i]) => labels[i]!), scores: order.map(([s]) => s) };
        });
      });
    };
  }

  if (spec.task === 'text-classification') {
    provider.classify = (inputs, options) => inSortedBatches(inputs, EMBED_BATCH, options.signal, async (texts) => {
      const out = (await call(texts, { top_k: null })) as Array<Array<{ label: string; score: number }>>;
      return out.map((r) => {
        const rows = Array.isArray(r) ? r : [r];
        return { labels: rows.map((x) => x.label), scores: rows.map((x) => x.score) };
      });
    });
  }

  if (['text-generation', 'chat', 'completion', 'summarization', 'text2text-generation'].includes(spec.task)) {
    // A chat model gets the request as a user message through its chat template, when it has one.
    const chat = spec.task === 'chat' && Boolean((pipe as unknown as { tokenizer?: { chat_template?: unknown } }).tokenizer?.chat_template);
    provider.generate = (inputs, options: GenerateOptions) => inSortedBatches(inputs, 1, options.signal, async (texts) => {
      if (options.chat && !chat) throw new Error('a list of chat messages needs a chat model (task chat, with a chat template); this model takes a text');
      const params = generationParameters(options.parameters);
      if (task === 'text-generation') params['return_full_text'] = false;
      const input = options.chat ? chatOf(texts[0]!) : chat ? [{ role: 'user', content: texts[0]! }] : texts[0];
      const out = (await call(input, params)) as Array<Record<string, unknown>>;
      const first = out[0] ?? {};
      const text = first['generated_text'] ?? first['summary_text'] ?? first['translation_text'] ?? '';
      // A chat answers with the conversation: the reply is its last message.
      return [Array.isArray(text) ? String((text.at(-1) as { content?: unknown } | undefined)?.content ?? '') : String(text)];
    });
  }
  return provider;
}

function softmax(xs: number[]): number[] {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** OpenAI-style parameters in the names transformers.js's generate() takes. */
function generationParameters(p: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    if (k === 'max_tokens') out['max_new_tokens'] = v;
    else if (k === 'temperature') {
      out['temperature'] = v;
      out['do_sample'] = Number(v) > 0;
    } else out[k] = v;
  }
  out['max_new_tokens'] ??= 64;
  out['do_sample'] ??= false;
  return out;
}
