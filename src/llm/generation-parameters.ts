/**
 * ai_query's modelParameters for models aiduck generates itself, in the OpenAI names users already
 * write: max_tokens, temperature, top_p, stop, seed.
 */
export interface GenerationParameters {
  maxTokens: number;
  /** 0 is greedy. */
  temperature: number;
  topP: number;
  stop: string[];
  seed: number;
}

export const DEFAULT_MAX_TOKENS = 128;

const KNOWN = ['max_tokens', 'max_new_tokens', 'temperature', 'top_p', 'stop', 'seed'];

function numberIn(value: unknown, name: string, min: number, max: number): number {
  const n = Number(value);
  if (value === null || value === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new Error(`modelParameters.${name} must be a number from ${min} to ${max}, not ${JSON.stringify(value)}`);
  }
  return n;
}

export function parseGenerationParameters(p: Record<string, unknown>): GenerationParameters {
  for (const key of Object.keys(p)) {
    if (!KNOWN.includes(key)) throw new Error(`unknown modelParameters key "${key}"; local decoders take ${KNOWN.join(', ')}`);
  }
  const max = p['max_tokens'] ?? p['max_new_tokens'];
  const stop = p['stop'];
  const stops = stop === undefined || stop === null ? [] : Array.isArray(stop) ? stop : [stop];
  if (stops.some((s) => typeof s !== 'string' || s === '')) throw new Error('modelParameters.stop must be a non-empty string or a list of them');
  return {
    maxTokens: max === undefined ? DEFAULT_MAX_TOKENS : Math.floor(numberIn(max, 'max_tokens', 1, 32768)),
    temperature: p['temperature'] === undefined ? 0 : numberIn(p['temperature'], 'temperature', 0, 10),
    topP: p['top_p'] === undefined ? 1 : numberIn(p['top_p'], 'top_p', 0, 1),
    stop: stops as string[],
    seed: p['seed'] === undefined ? 0 : Math.floor(numberIn(p['seed'], 'seed', 0, 2 ** 31 - 1)),
  };
}
