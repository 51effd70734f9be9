/**
 * SetFit's body stage in a thread of its own: loads the embedding model's encoder (model.safetensors,
 * or the weights of onnx/model.onnx, checked to compute what the graph computes), fine-tunes it on
 * pairs of the labelled texts, writes it as a sentence-transformers folder, and sends back the
 * fine-tuned vectors of the texts the head is fitted and scored on. It stops between steps when asked.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { SqlError } from '../errors/sql-error.js';
import { parseBertConfig, type BertConfig } from '../llm/bert-config.js';
import { BertEncoder } from '../llm/bert-model.js';
import { loadBertWeights, ONNX_MODEL_FILE } from '../llm/bert-weights.js';
import { loadTokenizer } from '../llm/model-folder.js';
import { embedSentences, trainBody } from '../llm/setfit-body.js';
import { writeSentenceTransformerFolder } from '../llm/sentence-transformer-folder.js';
import { errorMessage, type JobEnd } from './worker-job.js';
import type { FromSetFit, SetFitJobInput } from './setfit-messages.js';

const input = workerData as SetFitJobInput;
const cancelFlag = new Int32Array(input.cancel);
const post = (m: FromSetFit | JobEnd): void => parentPort!.postMessage(m);
const isCancelled = (): boolean => Atomics.load(cancelFlag, 0) !== 0;

/** Largest |difference| allowed between the ONNX graph's hidden states and the encoder's on the same weights. */
const ONNX_AGREEMENT = 1e-3;

/** The encoder read from an ONNX graph must compute what the graph computes: else the graph is not a plain BertModel. */
async function checkAgainstOnnx(folder: string, encoder: BertEncoder, samples: Int32Array[]): Promise<void> {
  const session = await ort.InferenceSession.create(await readFile(join(folder, ONNX_MODEL_FILE)));
  try {
    const H = encoder.config.hiddenSize;
    for (const ids of samples) {
      const n = ids.length;
      const feeds: Record<string, ort.Tensor> = {};
      const long = (values: ArrayLike<number>): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(Array.from(values, BigInt)), [1, n]);
      for (const name of session.inputNames) {
        if (name === 'input_ids') feeds[name] = long(ids);
        else if (name === 'attention_mask') feeds[name] = long(new Array<number>(n).fill(1));
        else if (name === 'token_type_ids') feeds[name] = long(new Array<number>(n).fill(0));
        else throw new SqlError('0A000', `onnx/model.onnx takes an input "${name}" a BERT encoder does not`, 'register the embedding model with model.safetensors, or use fine_tune_body => false');
      }
      const out = await session.run(feeds);
      const reference = (out['last_hidden_state'] ?? out['token_embeddings'])?.data as Float32Array | undefined;
      const { hidden } = await encoder.forward([ids], false);
      let worst = reference === undefined || reference.length !== n * H ? Infinity : 0;
      for (let i = 0; reference !== undefined && i < reference.length && worst !== Infinity; i++) worst = Math.max(worst, Math.abs(reference[i]! - hidden[i]!));
      if (!(worst <= ONNX_AGREEMENT)) {
        throw new SqlError('0A000', `onnx/model.onnx does not compute a plain BertModel from the weights it holds (its hidden states differ by ${worst})`,
          'register the embedding model from a folder with model.safetensors, or use fine_tune_body => false');
      }
    }
  } finally {
    await session.release();
  }
}

async function run(): Promise<void> {
  const folder = input.embedderFolder;
  const config: BertConfig = parseBertConfig(JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')));
  const tokenizer = await loadTokenizer(folder);
  const e = input.embedding;
  const maxLength = e.maxSeqLength ?? Math.min(Number((tokenizer as unknown as { model_max_length?: number }).model_max_length ?? config.maxPositionEmbeddings), config.maxPositionEmbeddings);
  const tokenize = (text: string): Int32Array => {
    const ids = (tokenizer(e.lowercase ? text.toLowerCase() : text, { truncation: true, max_length: maxLength }) as { input_ids: { data: BigInt64Array } }).input_ids.data;
    return Int32Array.from(ids, Number);
  };
  const sentences = input.train.map((r) => tokenize(r.text));
  const { weights, source } = await loadBertWeights(folder, config);
  const encoder = BertEncoder.create(config, weights);
  if (source === 'onnx') await checkAgainstOnnx(folder, encoder, sentences.slice(0, 3));
  const pairs = 2 * input.params.iterations * sentences.length;
  const steps = Math.ceil(pairs / input.params.batchSize) * input.params.epochs;
  post({ t: 'prepared', source, pairs, steps });
  const trained = await trainBody(encoder, sentences, input.train.map((r) => r.label), input.params, { onStep: (s) => post({ t: 'step', ...s }), isCancelled }, e.pooling);
  if (isCancelled()) throw new SqlError('57014', 'canceling statement due to user request');
  await writeSentenceTransformerFolder(join(input.outDir, 'body'), folder, config, encoder.weights, maxLength, e);
  const vectors = await embedSentences(encoder, input.embed.map(tokenize), e);
  post({ t: 'trained', epochLosses: trained.epochLosses, vectors });
  post({ t: 'done' });
}

// The engine ends this thread once it has read the last message.
run().catch((err: unknown) => post(errorMessage(err, 'fit_classifier')));
