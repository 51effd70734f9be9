/** Model parameters (temperature, max_tokens, stop, ...) checked and turned into JSON body fields. */
import { SqlError } from '../../../errors/sql-error.js';

/** A value that can go into a JSON request body as is. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Body fields the provider sets itself; a parameter must not override them. */
const RESERVED: Record<string, string> = {
  model: 'the endpoint model is part of the model registration; register a new version to change it',
  messages: 'the request text is the second argument of ai_query',
  prompt: 'the request text is the second argument of ai_query',
  input: 'the request text is the second argument of ai_query',
  stream: 'aiduck reads whole answers; remove this parameter',
};

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  if (typeof value === 'number') return String(value);
  return typeof value;
}

/** `value` as JSON, or an Error naming `path` when it holds something JSON cannot carry exactly. */
export function toJson(value: unknown, path: string): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) break;
      return value;
    case 'bigint':
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) break;
      return Number(value);
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) return value.map((v, i) => toJson(v, `${path}[${i}]`));
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) break;
      const out: { [key: string]: JsonValue } = {};
      for (const [k, v] of Object.entries(value)) {
        if (v !== undefined) out[k] = toJson(v, `${path}.${k}`);
      }
      return out;
    }
    default:
      break;
  }
  throw new SqlError(
    '22023',
    `model parameter '${path}' has a value of unsupported type (${describe(value)}): use a finite number, ` +
      'a string, a boolean, NULL, or a list or struct of those',
  );
}

/**
 * Checks the parameters and returns them as body fields. Throws an Error naming the parameter when a
 * value cannot be sent as JSON, when it would override a field the provider sets, or when `n` asks for
 * more than one answer per row.
 */
export function bodyParameters(parameters: Record<string, unknown>, hasResponseSchema: boolean): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(parameters)) {
    if (value === undefined) continue;
    const reserved = RESERVED[key];
    if (reserved !== undefined && !(key === 'stream' && value === false)) {
      throw new SqlError('22023', `model parameter '${key}' cannot be set: ${reserved}`);
    }
    if (key === 'n' && value !== 1 && value !== 1n) {
      throw new SqlError('22023', "model parameter 'n' must be 1: ai_query returns one answer per row");
    }
    if (key === 'response_format' && hasResponseSchema) {
      throw new SqlError('22023', "model parameter 'response_format' conflicts with responseFormat: give only one of them");
    }
    out[key] = toJson(value, key);
  }
  return out;
}
