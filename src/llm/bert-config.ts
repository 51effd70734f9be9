/**
 * The shape of a BERT-family sentence encoder (BertModel: MiniLM, BGE, E5, GTE and the like) as its
 * Hugging Face config.json describes it, and the names of its weights. Anything aiduck does not
 * compute the way transformers does (another architecture, relative positions, another activation)
 * is refused with the reason.
 */
import { SqlError } from '../errors/sql-error.js';

export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
}

const HINT = 'SetFit body fine-tuning trains BERT encoders (model_type "bert", absolute positions, GELU): sentence-transformers models such as all-MiniLM-L6-v2 or bge-small; use fine_tune_body => false for others';

export function parseBertConfig(json: unknown): BertConfig {
  if (typeof json !== 'object' || json === null) throw new SqlError('22023', 'config.json is not a JSON object');
  const j = json as Record<string, unknown>;
  const type = String(j.model_type ?? '');
  if (type !== 'bert') throw new SqlError('0A000', `cannot fine-tune an embedding model of model_type "${type}"`, HINT);
  const act = String(j.hidden_act ?? 'gelu');
  if (act !== 'gelu') throw new SqlError('0A000', `cannot fine-tune a BERT encoder with hidden_act "${act}" (only gelu)`, HINT);
  const position = String(j.position_embedding_type ?? 'absolute');
  if (position !== 'absolute') throw new SqlError('0A000', `cannot fine-tune a BERT encoder with position_embedding_type "${position}" (only absolute)`, HINT);
  const num = (key: string, fallback?: number): number => {
    const v = j[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new SqlError('22023', `config.json has no positive "${key}"`);
    return v;
  };
  const c: BertConfig = {
    vocabSize: num('vocab_size'),
    hiddenSize: num('hidden_size'),
    numLayers: num('num_hidden_layers'),
    numHeads: num('num_attention_heads'),
    intermediateSize: num('intermediate_size'),
    maxPositionEmbeddings: num('max_position_embeddings', 512),
    typeVocabSize: num('type_vocab_size', 2),
    layerNormEps: num('layer_norm_eps', 1e-12),
  };
  if (c.hiddenSize % c.numHeads !== 0) throw new SqlError('22023', 'config.json: hidden_size must be a multiple of num_attention_heads');
  return c;
}

/** Every weight of the encoder by its Hugging Face name (BertModel's, without a "bert." prefix), with its shape. */
export function bertWeightShapes(c: BertConfig): Map<string, number[]> {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const shapes = new Map<string, number[]>([
    ['embeddings.word_embeddings.weight', [c.vocabSize, H]],
    ['embeddings.position_embeddings.weight', [c.maxPositionEmbeddings, H]],
    ['embeddings.token_type_embeddings.weight', [c.typeVocabSize, H]],
    ['embeddings.LayerNorm.weight', [H]],
    ['embeddings.LayerNorm.bias', [H]],
  ]);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `encoder.layer.${l}`;
    for (const m of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
      shapes.set(`${p}.${m}.weight`, [H, H]);
      shapes.set(`${p}.${m}.bias`, [H]);
    }
    shapes.set(`${p}.attention.output.LayerNorm.weight`, [H]);
    shapes.set(`${p}.attention.output.LayerNorm.bias`, [H]);
    shapes.set(`${p}.intermediate.dense.weight`, [I, H]);
    shapes.set(`${p}.intermediate.dense.bias`, [I]);
    shapes.set(`${p}.output.dense.weight`, [H, I]);
    shapes.set(`${p}.output.dense.bias`, [H]);
    shapes.set(`${p}.output.LayerNorm.weight`, [H]);
    shapes.set(`${p}.output.LayerNorm.bias`, [H]);
  }
  return shapes;
}
