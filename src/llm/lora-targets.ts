/**
 * The modules of a Llama-family decoder a LoRA adapter can adapt, by the names PEFT's target_modules uses:
 * the linear modules of every decoder layer, the output layer (`lm_head`) and the token embedding
 * (`embed_tokens`). Each adapted module has a pair A [r, in], B [out, r]:
 *
 *   a linear W [out, in]:          y = x Wᵀ + s · x Aᵀ Bᵀ
 *   lm_head W [vocab, hidden]:     logits = h Wᵀ + s · h Aᵀ Bᵀ         (W is the embedding when tied)
 *   embed_tokens E [vocab, hidden]: x_t = E[t] + s · B A[:, t]          (A [r, vocab], B [hidden, r]),
 *
 * which is what PEFT's lora.Linear and lora.Embedding compute (the embedding's pair is stored as
 * lora_embedding_A / lora_embedding_B).
 */
import { LINEAR_MODULES, linearShape, modulePath, type LinearModule, type LlamaConfig } from './llama-config.js';

export const HEAD_MODULE = 'lm_head';
export const EMBED_MODULE = 'embed_tokens';
/** Module paths, as PEFT's tensor names carry them. */
export const HEAD_PATH = 'lm_head';
export const EMBED_PATH = 'model.embed_tokens';

export type LoraTarget = LinearModule | typeof HEAD_MODULE | typeof EMBED_MODULE;
/** Every target, in the order adapters are built and written: the layers' linears, then the embedding, then the head. */
export const LORA_TARGETS: readonly LoraTarget[] = [...LINEAR_MODULES, EMBED_MODULE, HEAD_MODULE];

export interface LoraSite {
  target: LoraTarget;
  /** The decoder layer, or null for the embedding and the head. */
  layer: number | null;
  /** [out, in] of the pair: A is [r, in], B [out, r]. */
  out: number;
  in: number;
}

export const isLinearModule = (t: string): t is LinearModule => (LINEAR_MODULES as readonly string[]).includes(t);

/** [out, in] of a target's LoRA pair. */
export function loraShape(c: LlamaConfig, target: LoraTarget): [number, number] {
  if (target === HEAD_MODULE) return [c.vocabSize, c.hiddenSize];
  if (target === EMBED_MODULE) return [c.hiddenSize, c.vocabSize];
  return linearShape(c, target);
}

const LAYER_PATH = /^model\.layers\.(\d+)\.(self_attn|mlp)\.([a-z_]+)$/;

/** The target a module path names (config-free: the layer is not checked against a model), or null. */
export function parseLoraPath(path: string): { target: LoraTarget; layer: number | null } | null {
  if (path === HEAD_PATH) return { target: HEAD_MODULE, layer: null };
  if (path === EMBED_PATH) return { target: EMBED_MODULE, layer: null };
  const m = LAYER_PATH.exec(path);
  if (!m) return null;
  const layer = Number(m[1]);
  const module = m[3]!;
  if (!isLinearModule(module) || modulePath(layer, module) !== path) return null;
  return { target: module, layer };
}

export function loraPath(target: LoraTarget, layer: number | null): string {
  if (target === HEAD_MODULE) return HEAD_PATH;
  if (target === EMBED_MODULE) return EMBED_PATH;
  return modulePath(layer ?? 0, target);
}

/** Every module path of the model an adapter may hold, with its shape. */
export function loraSites(c: LlamaConfig): Map<string, LoraSite> {
  const sites = new Map<string, LoraSite>();
  for (let l = 0; l < c.numLayers; l++) {
    for (const m of LINEAR_MODULES) {
      const [out, inDim] = linearShape(c, m);
      sites.set(modulePath(l, m), { target: m, layer: l, out, in: inDim });
    }
  }
  for (const target of [EMBED_MODULE, HEAD_MODULE] as const) {
    const [out, inDim] = loraShape(c, target);
    sites.set(loraPath(target, null), { target, layer: null, out, in: inDim });
  }
  return sites;
}

/** Sort order of module paths: by layer, then by LORA_TARGETS order; the embedding and the head last. */
export function pathOrder(a: string, b: string): number {
  const pa = parseLoraPath(a);
  const pb = parseLoraPath(b);
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  const la = pa.layer ?? Number.MAX_SAFE_INTEGER;
  const lb = pb.layer ?? Number.MAX_SAFE_INTEGER;
  return la - lb || LORA_TARGETS.indexOf(pa.target) - LORA_TARGETS.indexOf(pb.target);
}
