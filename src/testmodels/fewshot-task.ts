/**
 * A generated few-shot classification task for the BERT test embedder: four topics, each named in a
 * text by one of two topic words hidden among eight filler words drawn from a few hundred common ones.
 * A frozen bag-of-words-like body spreads each text's vector over its fillers; fine-tuning the body on
 * pairs of the labelled texts (SetFit) teaches it which words carry the topic.
 */
import { Prng, seedFrom } from './prng.js';
import { WORDS } from './words.js';

export const FEWSHOT_TOPICS: Readonly<Record<string, readonly [string, string]>> = {
  sports: ['football', 'tennis'],
  weather: ['rainy', 'forecast'],
  cooking: ['recipe', 'cheese'],
  technology: ['software', 'database'],
};

export interface FewShotRow {
  text: string;
  label: string;
}

/** `perClass` texts of each topic (the topic words alternate), the same for the same seed. */
export function fewShotTask(perClass: number, seed = 'fewshot-task'): FewShotRow[] {
  const rng = new Prng(seedFrom(seed));
  const topical = new Set(Object.values(FEWSHOT_TOPICS).flat());
  const fillers = WORDS.slice(0, 400).filter((w) => /^[a-z]+$/.test(w) && !topical.has(w));
  const pick = (): string => fillers[Math.floor(rng.next() * fillers.length)]!;
  const rows: FewShotRow[] = [];
  for (const [label, words] of Object.entries(FEWSHOT_TOPICS)) {
    for (let k = 0; k < perClass; k++) {
      const text = Array.from({ length: 8 }, pick);
      text.splice(Math.floor(rng.next() * (text.length + 1)), 0, words[k % 2]!);
      rows.push({ text: text.join(' '), label });
    }
  }
  return rows;
}
