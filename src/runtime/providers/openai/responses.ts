/** Reading answers in the OpenAI format: chat and completion text, embedding vectors, JSON answers. */
import type { JsonSchema, RowResult } from '../../provider.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function firstChoice(json: unknown): Record<string, unknown> | string {
  if (!isRecord(json)) return 'the body is not a JSON object';
  if (json['error'] !== undefined && json['error'] !== null) {
    const e = json['error'];
    return `the endpoint reported an error: ${isRecord(e) && typeof e['message'] === 'string' ? e['message'] : JSON.stringify(e)}`;
  }
  const choices = json['choices'];
  if (!Array.isArray(choices) || choices.length === 0 || !isRecord(choices[0])) return "it has no 'choices'";
  return choices[0];
}

function notOpenAI(where: string, why: string): RowResult<string> {
  return { ok: false, error: `${where} answered in a format that is not OpenAI's: ${why}` };
}

/** The text of a chat completion: `choices[0].message.content` (a string, or a list of text parts). */
export function chatText(json: unknown, where: string): RowResult<string> & { finishReason?: string } {
  const choice = firstChoice(json);
  if (typeof choice === 'string') return notOpenAI(where, choice);
  const message = choice['message'];
  if (!isRecord(message)) return notOpenAI(where, "choices[0] has no 'message'");
  const finish = typeof choice['finish_reason'] === 'string' ? { finishReason: choice['finish_reason'] } : {};
  const content = message['content'];
  if (typeof content === 'string') return { ok: true, value: content, ...finish };
  if (Array.isArray(content)) {
    const parts = content.map((p: unknown) => (isRecord(p) && typeof p['text'] === 'string' ? p['text'] : ''));
    return { ok: true, value: parts.join(''), ...finish };
  }
  if (typeof message['refusal'] === 'string') return { ok: false, error: `the model refused to answer: ${message['refusal']}` };
  return notOpenAI(where, 'choices[0].message.content is not text');
}

/** The text of a legacy completion: `choices[0].text`. */
export function completionText(json: unknown, where: string): RowResult<string> & { finishReason?: string } {
  const choice = firstChoice(json);
  if (typeof choice === 'string') return notOpenAI(where, choice);
  if (typeof choice['text'] !== 'string') return notOpenAI(where, 'choices[0].text is not text');
  const finish = typeof choice['finish_reason'] === 'string' ? { finishReason: choice['finish_reason'] } : {};
  return { ok: true, value: choice['text'], ...finish };
}

const FENCE = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/;

/**
 * Checks that an answer is JSON of the schema's top-level type with its required properties (a light
 * check: the endpoint enforces the full schema with `strict: true`). Returns the JSON text, without a
 * Markdown code fence if the model put one around it.
 */
export function checkJsonAnswer(text: string, schema: JsonSchema, finishReason: string | undefined): RowResult<string> {
  const unfenced = FENCE.exec(text)?.[1] ?? text;
  const shown = text.length > 200 ? `${text.slice(0, 200)}...` : text;
  const truncated = finishReason === 'length' ? ' (the answer was cut off at max_tokens: raise it)' : '';
  let value: unknown;
  try {
    value = JSON.parse(unfenced);
  } catch {
    return { ok: false, error: `the answer is not the JSON that responseFormat asks for${truncated}: ${shown}` };
  }
  const type = schema['type'];
  const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  const matches =
    typeof type !== 'string' || type === actual || (type === 'integer' && Number.isInteger(value)) || (type === 'number' && actual === 'number');
  if (!matches) return { ok: false, error: `the answer is JSON of type ${actual}, but responseFormat asks for ${String(type)}: ${shown}` };
  const required = schema['required'];
  if (isRecord(value) && Array.isArray(required)) {
    const missing = required.filter((k): k is string => typeof k === 'string' && !(k in value));
    if (missing.length > 0) {
      return { ok: false, error: `the answer lacks the required propert${missing.length > 1 ? 'ies' : 'y'} ${missing.join(', ')} of responseFormat: ${shown}` };
    }
  }
  return { ok: true, value: unfenced };
}

function toVector(embedding: unknown): Float32Array | undefined {
  if (Array.isArray(embedding)) {
    const out = new Float32Array(embedding.length);
    for (let i = 0; i < embedding.length; i++) {
      const x: unknown = embedding[i];
      if (typeof x !== 'number' || !Number.isFinite(x)) return undefined;
      out[i] = x;
    }
    return out;
  }
  if (typeof embedding === 'string') {
    // encoding_format 'base64': little-endian float32
    const bytes = Buffer.from(embedding, 'base64');
    if (bytes.length % 4 !== 0) return undefined;
    const out = new Float32Array(bytes.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
    return out;
  }
  return undefined;
}

/**
 * The vectors of an embeddings answer for `count` inputs, in input order (by each item's `index`).
 * A string is an error for the whole request (the answer cannot be matched to its inputs).
 */
export function embeddingVectors(json: unknown, count: number, where: string): Float32Array[] | string {
  const bad = (why: string): string => `${where} answered in a format that is not OpenAI's: ${why}`;
  if (!isRecord(json)) return bad('the body is not a JSON object');
  const data = json['data'];
  if (!Array.isArray(data)) return bad("it has no 'data' list");
  if (data.length !== count) return bad(`it has ${data.length} embeddings for ${count} inputs`);
  const out = new Array<Float32Array | undefined>(count);
  for (let pos = 0; pos < data.length; pos++) {
    const item: unknown = data[pos];
    if (!isRecord(item)) return bad(`data[${pos}] is not an object`);
    const index = item['index'] ?? pos;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count || out[index] !== undefined) {
      return bad(`data[${pos}].index is ${JSON.stringify(index)}, which is not a distinct position among ${count} inputs`);
    }
    const vector = toVector(item['embedding']);
    if (vector === undefined) return bad(`data[${pos}].embedding is not a list of numbers`);
    out[index] = vector;
  }
  return out as Float32Array[];
}
