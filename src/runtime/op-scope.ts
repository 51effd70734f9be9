import type { RuntimeOp } from './messages.js';
import type { ModelSpec } from './provider.js';

const embeddingIdentity = (e: NonNullable<ModelSpec['embedding']>): unknown[] => [e.pooling, e.normalize, e.includePrompt, e.prompt, e.maxSeqLength, e.lowercase];

/**
 * Everything but the input that decides a result: the model version, the operation and its options.
 * An embedding's pooling counts where recorded (versions from before it was recorded keep their identity).
 */
export const modelIdentity = (s: ModelSpec): string =>
  JSON.stringify([s.name, s.version, s.provider, s.location, s.endpointModel ?? null, s.task, ...(s.embedding ? [embeddingIdentity(s.embedding)] : [])]);

export function opScope(work: RuntimeOp): string {
  switch (work.op) {
    case 'embed': return 'embed';
    // A conversation's input is JSON text: it must never meet a text request that happens to be the same string.
    case 'generate': return JSON.stringify(['generate', work.parameters, work.responseSchema ?? null, ...(work.chat ? ['chat'] : [])]);
    case 'classify': return JSON.stringify(['classify', work.labels, work.multiLabel, work.hypothesisTemplate]);
    case 'count_tokens': return 'count_tokens';
  }
}
