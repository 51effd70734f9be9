import { INTEGER, VARCHAR } from '@duckdb/node-api';
import { columnValues, type BatchFunction } from '../../src/functions/batch-function.js';
import type { AiContext } from '../../src/functions/context.js';
import { CallAbandoned } from '../../src/runtime/runtime-client.js';
import { SqlError } from '../../src/errors/sql-error.js';

interface Word {
  start: number;
  end: number;
  text: string;
}

/**
 * Chunks of whole words holding at most `size` tokens of the model's tokenizer (a word longer than
 * that is a chunk of its own), each starting `overlap` tokens' worth of words before the previous
 * one ended. Words are counted one by one, so the counts are the tokenizer's up to word boundaries.
 */
export function packWords(words: Word[], counts: number[], size: number, overlap: number): Array<{ position: number; start: number; len: number }> {
  const chunks: Array<{ position: number; start: number; len: number }> = [];
  let i = 0;
  while (i < words.length) {
    let j = i;
    let tokens = 0;
    while (j < words.length && (j === i || tokens + counts[j]! <= size)) tokens += counts[j++]!;
    chunks.push({ position: chunks.length, start: words[i]!.start + 1, len: words[j - 1]!.end - words[i]!.start });
    if (j >= words.length) break;
    let k = j;
    let back = 0;
    while (k - 1 > i && back + counts[k - 1]! <= overlap) back += counts[--k]!;
    i = k;
  }
  return chunks;
}

/** `__ai_token_chunks(model, text, size, overlap)`: the chunks of one text as JSON, for chunk_text's unit => 'tokens'. */
export const tokenChunksKernel = (ai: AiContext): BatchFunction => ({
  name: '__ai_token_chunks',
  parameterTypes: [VARCHAR, VARCHAR, INTEGER, INTEGER],
  returnType: VARCHAR,
  run(input, output, caller) {
    const [models, texts, sizes, overlaps] = [0, 1, 2, 3].map((c) => columnValues(input, c));
    const perRow = texts!.map((t) => (t === null ? [] : [...String(t).matchAll(/\S+/g)].map((m) => ({ start: m.index, end: m.index + m[0].length, text: m[0] }))));
    const byModel = new Map<string, Set<string>>();
    perRow.forEach((words, i) => {
      if (!words.length) return;
      const m = String(models![i]);
      let set = byModel.get(m);
      if (!set) byModel.set(m, (set = new Set()));
      for (const w of words) set.add(w.text);
    });
    const counts = new Map<string, Map<string, number>>();
    for (const [model, words] of byModel) {
      const inputs = [...words];
      try {
        const reply = ai.runtime.callSync(caller.sid, { op: 'count_tokens', spec: ai.registry.resolve(model), inputs }, () => caller.stopReason());
        counts.set(model, new Map(inputs.map((w, j) => {
          const r = reply.results[j];
          if (!r?.ok) throw new Error(`counting the tokens of "${w.slice(0, 40)}" failed: ${r?.ok === false ? r.error : 'no result'}`);
          return [w, Number(r.value)];
        })));
      } catch (err) {
        if (err instanceof CallAbandoned) throw new SqlError('57014', err.message);
        throw err;
      }
    }
    perRow.forEach((words, i) => {
      if (texts![i] === null) return output.setItem(i, null);
      const model = counts.get(String(models![i]));
      output.setItem(i, JSON.stringify(packWords(words, words.map((w) => model?.get(w.text) ?? 1), Number(sizes![i]), Number(overlaps![i]))));
    });
    output.flush();
  },
});
