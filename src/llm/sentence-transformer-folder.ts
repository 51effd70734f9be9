/**
 * A fine-tuned body written as a Hugging Face folder that sentence-transformers loads
 * (`SentenceTransformer(dir)`) and transformers.js serves:
 *
 *   config.json, model.safetensors          BertModel (transformers' names)
 *   tokenizer.json, tokenizer_config.json,  the original model's tokenizer files
 *   vocab.txt, special_tokens_map.json
 *   modules.json                            Transformer → Pooling → Normalize (when the original normalises)
 *   sentence_bert_config.json, 1_Pooling/config.json, config_sentence_transformers.json
 *   onnx/model.onnx                         the same encoder as an ONNX graph
 *
 * The pooling, normalisation, length limit and lower-casing are the original embedding model's (what
 * the body was trained and is served with), so the folder declares them.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BertConfig } from './bert-config.js';
import type { SentenceEmbedding } from './sentence-embedding.js';
import { bertOnnx } from './bert-onnx.js';
import type { WeightMap } from './llama-config.js';
import { writeSafetensors } from './safetensors.js';

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'];

const json = (value: unknown): string => JSON.stringify(value, null, 2) + '\n';

const POOLING_FLAGS = {
  pooling_mode_cls_token: 'cls',
  pooling_mode_mean_tokens: 'mean',
  pooling_mode_max_tokens: 'max',
  pooling_mode_mean_sqrt_len_tokens: 'mean_sqrt_len_tokens',
  pooling_mode_weightedmean_tokens: 'weightedmean',
  pooling_mode_lasttoken: 'lasttoken',
} as const;

export async function writeSentenceTransformerFolder(dir: string, source: string, config: BertConfig, weights: WeightMap, maxSeqLength: number,
  embedding: Pick<SentenceEmbedding, 'pooling' | 'normalize' | 'includePrompt' | 'lowercase'>): Promise<void> {
  await mkdir(join(dir, '1_Pooling'), { recursive: true });
  await mkdir(join(dir, 'onnx'), { recursive: true });
  const original = JSON.parse(await readFile(join(source, 'config.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(dir, 'config.json'), json({ ...original, architectures: ['BertModel'] }));
  await writeSafetensors(join(dir, 'model.safetensors'), weights, { format: 'pt' });
  for (const f of TOKENIZER_FILES) if (existsSync(join(source, f))) await copyFile(join(source, f), join(dir, f));
  await writeFile(join(dir, 'modules.json'), json([
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
    ...(embedding.normalize ? [{ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' }] : []),
  ]));
  await writeFile(join(dir, 'sentence_bert_config.json'), json({ max_seq_length: maxSeqLength, do_lower_case: embedding.lowercase }));
  await writeFile(join(dir, '1_Pooling', 'config.json'), json({
    word_embedding_dimension: config.hiddenSize,
    ...Object.fromEntries(Object.entries(POOLING_FLAGS).map(([key, mode]) => [key, embedding.pooling.includes(mode)])),
    include_prompt: embedding.includePrompt,
  }));
  await writeFile(join(dir, 'config_sentence_transformers.json'), json({ model_type: 'SentenceTransformer', prompts: {}, default_prompt_name: null, similarity_fn_name: 'cosine' }));
  await writeFile(join(dir, 'onnx', 'model.onnx'), bertOnnx(config, weights));
}
