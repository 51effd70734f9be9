/**
 * Training rows → token sequences with loss masks for LoRA fine-tuning.
 *
 * A row is either an instruction pair `{ prompt, response }` or a conversation `{ messages }` (JSON: an array
 * of {role, content}, or an object with a "messages" array). Conversations, and instruction pairs when the
 * tokenizer has a chat template, are rendered through that template; lossMask[t] = 1 marks the tokens the
 * model must learn to produce: each assistant turn's content and its end-of-turn marker (`<|im_end|>`,
 * `<|eot_id|>`, `</s>`...). Token 0 is never a target: nothing precedes it to predict it from.
 *
 * Where an assistant turn starts and ends is found without knowing the template's syntax: the template is
 * rendered for the conversation up to the turn (with the generation prompt) and through the turn, and the
 * two strings, which must be prefixes of the whole rendering, delimit the turn's text.
 */
import type { Message, PreTrainedTokenizer } from '@huggingface/transformers';
import { SqlError } from '../errors/sql-error.js';

export interface TokenizedExample {
  inputIds: Int32Array;
  /** 1 where the token is a training target. */
  lossMask: Uint8Array;
}

export interface TokenizeSummary {
  /** Sequences kept. */
  examples: number;
  /** Sequences dropped because truncation left no target token. */
  droppedEmpty: number;
  /** Kept sequences that were cut to maxSeqLength. */
  truncated: number;
  targetTokens: number;
  totalTokens: number;
  /**
   * Assistant turns (of conversations with several) left as context only, because the chat template renders
   * earlier turns differently inside a longer conversation (e.g. templates that drop past reasoning).
   */
  skippedTurns: number;
}

export interface TokenizedData {
  examples: TokenizedExample[];
  summary: TokenizeSummary;
}

export interface TokenizeOptions {
  maxSeqLength: number;
  /** Appended after the response when the tokenizer has no chat template; defaults to the tokenizer's EOS. */
  eosTokenId?: number;
  /** Checked before each row: a cancelled run stops here too (57014). */
  isCancelled?: () => boolean;
}

export type ChatRole = 'system' | 'user' | 'assistant';
export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export type TrainingRow = Readonly<Record<string, unknown>>;

export type ParsedRow = { kind: 'chat'; messages: ChatMessage[] } | { kind: 'instruction'; prompt: string; response: string };

const ROLES: readonly string[] = ['system', 'user', 'assistant'];

// ---------------------------------------------------------------------------------------------------
// Rows

function requiredText(row: TrainingRow, column: string, rowNumber: number): string {
  const value = row[column];
  if (value === null || value === undefined) throw new SqlError('22023', `training_data row ${rowNumber}: ${column} is NULL; every row needs a non-empty ${column}`);
  if (typeof value !== 'string') throw new SqlError('22023', `training_data row ${rowNumber}: ${column} must be text, got ${typeof value}`);
  if (value.trim() === '') throw new SqlError('22023', `training_data row ${rowNumber}: ${column} is empty; every row needs a non-empty ${column}`);
  return value;
}

const MESSAGES_SHAPE = 'a JSON array of {"role", "content"} objects, or an object {"messages": [...]}';

function parseMessages(value: unknown, rowNumber: number): ChatMessage[] {
  const where = `training_data row ${rowNumber}`;
  if (value === null || value === undefined) throw new SqlError('22023', `${where}: messages is NULL; it must be ${MESSAGES_SHAPE}`);
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch (e) {
      throw new SqlError('22P02', `${where}: messages is not valid JSON (${(e as Error).message}); it must be ${MESSAGES_SHAPE}`);
    }
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && 'messages' in parsed) {
    parsed = (parsed as { messages: unknown }).messages;
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new SqlError('22023', `${where}: messages must be a non-empty array; expected ${MESSAGES_SHAPE}`);
  }
  const messages = parsed.map((m: unknown, i): ChatMessage => {
    if (m === null || typeof m !== 'object' || Array.isArray(m)) throw new SqlError('22023', `${where}: message ${i + 1} is not an object with "role" and "content"`);
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || !ROLES.includes(role)) {
      throw new SqlError('22023', `${where}: message ${i + 1} has role ${JSON.stringify(role ?? null)}; roles must be system, user or assistant`);
    }
    if (typeof content !== 'string') {
      throw new SqlError('22023', `${where}: message ${i + 1} (${role}) has content of type ${content === null ? 'null' : typeof content}; content must be a string`);
    }
    if (role === 'assistant' && content.trim() === '') throw new SqlError('22023', `${where}: message ${i + 1} is an assistant turn with empty content; there is nothing to learn from it`);
    return { role: role as ChatRole, content };
  });
  if (!messages.some((m) => m.role === 'assistant')) {
    throw new SqlError('22023', `${where}: the conversation has no assistant message; training learns the assistant's replies, so each conversation needs at least one`);
  }
  return messages;
}

/** Checks one row and says what is wrong with it, by its 1-based number. */
export function parseTrainingRow(row: TrainingRow, rowNumber: number): ParsedRow {
  if ('messages' in row) return { kind: 'chat', messages: parseMessages(row.messages, rowNumber) };
  if ('prompt' in row || 'response' in row) {
    return { kind: 'instruction', prompt: requiredText(row, 'prompt', rowNumber), response: requiredText(row, 'response', rowNumber) };
  }
  throw new SqlError('22023', `training_data row ${rowNumber} has columns (${Object.keys(row).join(', ')}); it needs either prompt and response columns, or a messages column`);
}

// ---------------------------------------------------------------------------------------------------
// Token alignment

const encode = (tokenizer: PreTrainedTokenizer, text: string): number[] => (text === '' ? [] : tokenizer.encode(text, { add_special_tokens: false }));

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

function commonSuffix(a: readonly number[], b: readonly number[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[a.length - 1 - n] === b[b.length - 1 - n]) n++;
  return n;
}

/**
 * The token index in `ids` (the tokenization of `text`) at character offset `at`. Tokenizing text[0, at)
 * normally gives a prefix of `ids`, which locates the boundary exactly. When a token straddles the boundary
 * (e.g. a newline closing the header merges with newlines opening the content), the index is chosen so that
 * the straddling token counts as a target: for a start boundary the first differing token, for an end
 * boundary the first token of the longest tail shared with text[at, end). Every target character is then
 * covered, at the price of a few neighbouring characters. The canonical tokenization of the whole text is
 * kept, since that is what the model sees at inference.
 */
function tokenBoundary(tokenizer: PreTrainedTokenizer, text: string, ids: readonly number[], at: number, side: 'start' | 'end'): number {
  if (at <= 0) return 0;
  if (at >= text.length) return ids.length;
  const head = encode(tokenizer, text.slice(0, at));
  const shared = commonPrefix(head, ids);
  if (shared === head.length || side === 'start') return shared;
  const tail = encode(tokenizer, text.slice(at));
  return Math.max(shared, ids.length - commonSuffix(tail, ids));
}

function maskSpans(tokenizer: PreTrainedTokenizer, text: string, spans: ReadonlyArray<[number, number]>): TokenizedExample {
  const ids = encode(tokenizer, text);
  const lossMask = new Uint8Array(ids.length);
  for (const [from, to] of spans) {
    const start = tokenBoundary(tokenizer, text, ids, from, 'start');
    const end = tokenBoundary(tokenizer, text, ids, to, 'end');
    lossMask.fill(1, start, Math.max(start, end));
  }
  return { inputIds: Int32Array.from(ids), lossMask };
}

// ---------------------------------------------------------------------------------------------------
// Chat template

function render(tokenizer: PreTrainedTokenizer, messages: ChatMessage[], addGenerationPrompt: boolean, rowNumber: number): string {
  try {
    return tokenizer.apply_chat_template(messages as Message[], { tokenize: false, add_generation_prompt: addGenerationPrompt });
  } catch (e) {
    throw new SqlError('22023', `training_data row ${rowNumber}: the model's chat template refused this conversation: ${(e as Error).message}`);
  }
}

/**
 * Where the end-of-turn marker ends in the turn text[from, to): just after the first special token that
 * follows the content (so `<|im_end|>` is a target but the newline after it is not). Without a special
 * token the template's whole turn suffix is the marker; if the content cannot be found verbatim (the
 * template rewrites it), the whole turn is the target.
 */
function endOfTurn(text: string, from: number, to: number, content: string, specials: readonly string[]): number {
  const turn = text.slice(from, to);
  let contentEnd = -1;
  for (const candidate of [content, content.trim()]) {
    const at = turn.indexOf(candidate);
    if (at >= 0) {
      contentEnd = at + candidate.length;
      break;
    }
  }
  if (contentEnd < 0) return to;
  const rest = turn.slice(contentEnd);
  let markerEnd = -1;
  for (const special of specials) {
    const at = special === '' ? -1 : rest.indexOf(special);
    if (at >= 0 && (markerEnd < 0 || at + special.length < markerEnd)) markerEnd = at + special.length;
  }
  return markerEnd < 0 ? to : from + contentEnd + markerEnd;
}

interface ChatEncoding {
  example: TokenizedExample;
  skippedTurns: number;
}

function encodeChat(tokenizer: PreTrainedTokenizer, messages: ChatMessage[], rowNumber: number): ChatEncoding {
  const text = render(tokenizer, messages, false, rowNumber);
  const specials = tokenizer.all_special_tokens;
  const spans: Array<[number, number]> = [];
  let skippedTurns = 0;
  messages.forEach((message, k) => {
    if (message.role !== 'assistant') return;
    let before: string;
    let through: string;
    try {
      before = render(tokenizer, messages.slice(0, k), true, rowNumber);
      through = render(tokenizer, messages.slice(0, k + 1), false, rowNumber);
    } catch {
      skippedTurns++;
      return;
    }
    if (!text.startsWith(before) || !text.startsWith(through) || through.length <= before.length) {
      skippedTurns++;
      return;
    }
    spans.push([before.length, endOfTurn(text, before.length, through.length, message.content, specials)]);
  });
  if (spans.length === 0) {
    throw new SqlError(
      '22023',
      `training_data row ${rowNumber}: the model's chat template renders the conversation so that no assistant reply can be located (rendering it up to a reply does not give a prefix of the whole); use prompt/response rows or a model whose template renders turns consistently`,
    );
  }
  return { example: maskSpans(tokenizer, text, spans), skippedTurns };
}

// ---------------------------------------------------------------------------------------------------
// Without a chat template: prompt, response, EOS

/** The ids the tokenizer's post-processor puts before a text (BOS for Llama tokenizers), found by probing. */
function leadingSpecialIds(tokenizer: PreTrainedTokenizer): number[] {
  const probe = 'hello';
  const plain = encode(tokenizer, probe);
  const withSpecials = tokenizer.encode(probe, { add_special_tokens: true });
  for (let i = 0; i + plain.length <= withSpecials.length; i++) {
    if (plain.every((id, j) => withSpecials[i + j] === id)) return withSpecials.slice(0, i);
  }
  return [];
}

function encodePlain(tokenizer: PreTrainedTokenizer, prompt: string, response: string, lead: readonly number[], eos: number): TokenizedExample {
  const text = prompt + response;
  const body = maskSpans(tokenizer, text, [[prompt.length, text.length]]);
  const n = lead.length + body.inputIds.length + 1;
  const inputIds = new Int32Array(n);
  inputIds.set(lead, 0);
  inputIds.set(body.inputIds, lead.length);
  inputIds[n - 1] = eos;
  const lossMask = new Uint8Array(n);
  lossMask.set(body.lossMask, lead.length);
  lossMask[n - 1] = 1;
  return { inputIds, lossMask };
}

// ---------------------------------------------------------------------------------------------------

function hasChatTemplate(tokenizer: PreTrainedTokenizer): boolean {
  const template: unknown = tokenizer.chat_template;
  return (typeof template === 'string' && template !== '') || (template !== null && typeof template === 'object');
}

/**
 * Tokenizes training rows. Instruction rows go through the chat template as one user message and one
 * assistant reply when the tokenizer has a template; otherwise they are the prompt text immediately
 * followed by the response text (no separator is added: the prompt carries its own, exactly as it will
 * at generation time) and the EOS token, with only the response and EOS as targets. Sequences longer than
 * maxSeqLength keep their start; those left without a target are dropped.
 */
export function tokenizeExamples(tokenizer: PreTrainedTokenizer, rows: readonly TrainingRow[], options: TokenizeOptions): TokenizedData {
  const { maxSeqLength } = options;
  if (!Number.isInteger(maxSeqLength) || maxSeqLength < 2) throw new SqlError('22023', `max_seq_length must be an integer of at least 2, got ${maxSeqLength}`);
  const chatTemplate = hasChatTemplate(tokenizer);
  let plain: { lead: number[]; eos: number } | null = null;
  const summary: TokenizeSummary = { examples: 0, droppedEmpty: 0, truncated: 0, targetTokens: 0, totalTokens: 0, skippedTurns: 0 };
  const examples: TokenizedExample[] = [];
  rows.forEach((row, index) => {
    if (options.isCancelled?.() === true) throw new SqlError('57014', 'canceling statement due to user request');
    const rowNumber = index + 1;
    const parsed = parseTrainingRow(row, rowNumber);
    let example: TokenizedExample;
    if (chatTemplate) {
      const messages: ChatMessage[] =
        parsed.kind === 'chat' ? parsed.messages : [{ role: 'user', content: parsed.prompt }, { role: 'assistant', content: parsed.response }];
      const chat = encodeChat(tokenizer, messages, rowNumber);
      summary.skippedTurns += chat.skippedTurns;
      example = chat.example;
    } else {
      if (parsed.kind === 'chat') {
        throw new SqlError('22023', `training_data row ${rowNumber} is a conversation (messages), but the base model's tokenizer has no chat template; use prompt and response columns, or a chat model`);
      }
      plain ??= { lead: leadingSpecialIds(tokenizer), eos: eosId(tokenizer, options) };
      example = encodePlain(tokenizer, parsed.prompt, parsed.response, plain.lead, plain.eos);
    }
    example.lossMask[0] = 0;
    let truncated = false;
    if (example.inputIds.length > maxSeqLength) {
      example = { inputIds: example.inputIds.slice(0, maxSeqLength), lossMask: example.lossMask.slice(0, maxSeqLength) };
      truncated = true;
    }
    const targets = example.lossMask.reduce((sum, m) => sum + m, 0);
    if (targets === 0) {
      summary.droppedEmpty++;
      return;
    }
    if (truncated) summary.truncated++;
    summary.examples++;
    summary.targetTokens += targets;
    summary.totalTokens += example.inputIds.length;
    examples.push(example);
  });
  return { examples, summary };
}

function eosId(tokenizer: PreTrainedTokenizer, options: TokenizeOptions): number {
  const id = options.eosTokenId ?? tokenizer.eos_token_id;
  if (typeof id !== 'number' || !Number.isInteger(id)) {
    throw new SqlError('22023', 'the tokenizer has no eos_token, so the end of a response cannot be marked; set eos_token in tokenizer_config.json');
  }
  return id;
}
