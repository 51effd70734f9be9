/**
 * The tokenizer of the tiny Llama chat model: a byte-level BPE (as SmolLM2 and Qwen2 use) with the ChatML
 * special tokens, learned from the shared word list plus the words and sentences of a banking help-desk
 * chat, so such conversations tokenize into few tokens.
 */
import type { ModelFiles } from './files.js';
import {
  addedTokensDecoder,
  byteLevelBpeTokenizerJson,
  defaultBpeCorpus,
  mergesTxt,
  trainByteLevelBpe,
  type Bpe,
} from './tokenizers.js';
import { WORDS } from './words.js';

export const IM_START = '<|im_start|>';
export const IM_END = '<|im_end|>';
export const END_OF_TEXT = '<|endoftext|>';
/** In vocabulary order, after the learned tokens. */
export const CHATML_SPECIAL_TOKENS = [END_OF_TEXT, IM_START, IM_END] as const;

/** SmolLM2's / Qwen2's ChatML template (without a default system message). */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

const BANKING_WORDS = `
user assistant system
balance balances account accounts transfer transfers transferred card cards credit debit loan loans rate rates
interest fee fees savings checking current open opened opening close closed closing branch branches help
sorry cannot can't topic topics deposit deposits withdraw withdrawal withdrawals payment payments pay paid
money bank banking mortgage statement statements online mobile app pin password limit limits overdraft
charge charges cash atm wire international currency exchange fraud block blocked unblock lost stolen
report hours monday tuesday wednesday thursday friday saturday sunday available minimum maximum month
monthly year yearly annual percent apr apply application approved declined joint business personal
customer support agent call phone number email address update change verify identity dollars euros
amount due date schedule recurring cancel dispute refund transaction transactions history pending
processed days details assist question questions answer only regarding related unrelated outside scope
happy glad welcome hello hi thanks thank please sure certainly unfortunately able unable provide
information contact visit nearest today tomorrow business within standing order direct debit iban
swift routing sort code fixed variable term deposit investment investments insurance new replace
replacement activate activated expire expires expiry expired
`;

const BANKING_SENTENCES: readonly string[] = [
  'What is the balance of my savings account?',
  'Your current balance is $1,250.00.',
  'How do I transfer money to another account?',
  'You can transfer money in the mobile app or at any branch.',
  'The interest rate on savings accounts is 2.5% per year.',
  'There is no monthly fee for a checking account.',
  'My card was lost, please block it.',
  'I have blocked your card. A new card will arrive in 5 to 7 business days.',
  'Can I open a joint account online?',
  'What time does the branch close on Saturday?',
  'Our branches are open Monday to Friday from 9:00 to 17:00.',
  "I'm sorry, I cannot help with that topic. I can only answer questions about banking.",
  "Sorry, that is outside the topics I can help with.",
  'How much is the fee for an international wire transfer?',
  'The loan rate is fixed at 4.9% APR for 36 months.',
  '{"intent": "balance", "account": "savings"}',
  '{"answer": "yes", "amount": 100}',
  'Thank you for contacting us. Is there anything else I can help you with?',
];

const bankingWords = (): string[] => BANKING_WORDS.split(/\s+/).filter((x) => x !== '');

/** The words the corpus is built from: the shared word list and the banking chat's. */
export const CHAT_WORDS: ReadonlySet<string> = new Set([...WORDS, ...bankingWords()]);

/** The corpus the merges are learned from: the shared words and sentences, then the banking chat's. */
function chatBpeCorpus(): Array<[string, number]> {
  const corpus = defaultBpeCorpus();
  for (const w of bankingWords()) {
    corpus.push([` ${w}`, 30], [w, 10], [` ${w[0]?.toUpperCase()}${w.slice(1)}`, 4], [`${w[0]?.toUpperCase()}${w.slice(1)}`, 4]);
  }
  for (const s of BANKING_SENTENCES) corpus.push([s, 20]);
  for (let n = 0; n < 100; n++) corpus.push([` ${n}`, 3]);
  return corpus;
}

export function trainChatBpe(merges: number): Bpe {
  return trainByteLevelBpe(chatBpeCorpus(), merges, CHATML_SPECIAL_TOKENS);
}

export function tokenId(bpe: Bpe, token: string): number {
  const id = bpe.vocab.indexOf(token);
  if (id < 0) throw new Error(`token ${token} is not in the vocabulary`);
  return id;
}

/** tokenizer.json, tokenizer_config.json and the files the slow tokenizer reads, SmolLM2-Instruct style. */
export function chatTokenizerFiles(bpe: Bpe, maxLength: number): ModelFiles {
  return {
    'tokenizer.json': byteLevelBpeTokenizerJson(bpe, CHATML_SPECIAL_TOKENS),
    'tokenizer_config.json': {
      tokenizer_class: 'GPT2Tokenizer',
      model_max_length: maxLength,
      add_prefix_space: false,
      bos_token: IM_START,
      eos_token: IM_END,
      pad_token: END_OF_TEXT,
      unk_token: END_OF_TEXT,
      additional_special_tokens: [IM_START, IM_END],
      clean_up_tokenization_spaces: false,
      errors: 'replace',
      chat_template: CHATML_TEMPLATE,
      added_tokens_decoder: addedTokensDecoder(bpe.vocab, CHATML_SPECIAL_TOKENS),
    },
    'special_tokens_map.json': {
      bos_token: IM_START,
      eos_token: IM_END,
      pad_token: END_OF_TEXT,
      unk_token: END_OF_TEXT,
      additional_special_tokens: [IM_START, IM_END],
    },
    'vocab.json': Object.fromEntries(bpe.vocab.map((t, i) => [t, i])),
    'merges.txt': mergesTxt(bpe),
  };
}
