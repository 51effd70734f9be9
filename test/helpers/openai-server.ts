/**
 * A real OpenAI-compatible HTTP server on 127.0.0.1 (random port) for the provider tests: deterministic
 * answers, knobs for latency and failures, and counters of what it saw. No mocks: clients talk HTTP to it.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OpenAIServerKnobs {
  /** Delay before every answer, failures included. */
  latencyMs: number;
  /** The next N requests are answered 429 with a Retry-After header of `retryAfter` (omitted when null). */
  fail429: number;
  retryAfter: string | null;
  /** After the 429s, the next N requests are answered 500. */
  fail500: number;
  /** After the 500s, the next N requests get no answer: their connection is destroyed (a network error). */
  dropConnections: number;
  /** A request carrying this input (chat content, prompt, or one of the embedding inputs) is answered 400. */
  badInput: string | undefined;
  /** When set, requests without `Authorization: Bearer <apiKey>` are answered 401. */
  apiKey: string | undefined;
  /** When set, every request is answered 403 (a key that may not use the model). */
  forbidden: boolean;
  /** When set, a request naming another model is answered `unknownModelStatus` with OpenAI's model_not_found error. */
  models: string[] | undefined;
  unknownModelStatus: number;
  /** Length of the embedding vectors. */
  dimension: number;
  /** This embedding input gets a vector one element shorter than the others. */
  shortVectorFor: string | undefined;
  /** A json_schema chat request with this content gets an answer that is not JSON. */
  notJsonFor: string | undefined;
  /** Answer embedding items in reverse order (their `index` still tells the position). */
  reverseEmbeddings: boolean;
  /** Chat answers by the content of the last message, instead of the echo. */
  answers: Record<string, string>;
}

export interface OpenAIServerStats {
  requests: number;
  byPath: Record<string, number>;
  inFlight: number;
  maxInFlight: number;
  /** Requests whose client went away before the answer was written. */
  aborted: number;
  lastBody: Record<string, unknown> | undefined;
  bodies: Array<Record<string, unknown>>;
  authorizations: Array<string | undefined>;
}

export interface OpenAITestServer {
  /** The base URL, ending in /v1. */
  url: string;
  port: number;
  knobs: OpenAIServerKnobs;
  stats: OpenAIServerStats;
  /** Changes knobs; the others keep their values. */
  set(knobs: Partial<OpenAIServerKnobs>): void;
  /** Default knobs (plus `knobs`) and zero counters. */
  reset(knobs?: Partial<OpenAIServerKnobs>): void;
  close(): Promise<void>;
}

const DEFAULT_KNOBS: OpenAIServerKnobs = {
  latencyMs: 0,
  fail429: 0,
  retryAfter: '0',
  fail500: 0,
  dropConnections: 0,
  badInput: undefined,
  apiKey: undefined,
  forbidden: false,
  models: undefined,
  unknownModelStatus: 404,
  dimension: 8,
  shortVectorFor: undefined,
  notJsonFor: undefined,
  reverseEmbeddings: true,
  answers: {},
};

function freshStats(): OpenAIServerStats {
  return { requests: 0, byPath: {}, inFlight: 0, maxInFlight: 0, aborted: 0, lastBody: undefined, bodies: [], authorizations: [] };
}

/** The server's embedding of `text`: `dimension` numbers in [-1, 1) derived from SHA-256 of the text. */
export function fakeEmbedding(text: string, dimension: number): number[] {
  const out: number[] = [];
  for (let block = 0; out.length < dimension; block++) {
    const digest = createHash('sha256').update(`${block}:${text}`).digest();
    for (let i = 0; i + 1 < digest.length && out.length < dimension; i += 2) out.push(digest.readUInt16LE(i) / 32768 - 1);
  }
  return out;
}

/** The server's JSON answer for a schema: each property by its type (string: the content, integer/number: its length). */
export function fakeJsonAnswer(schema: Record<string, unknown>, content: string): Record<string, unknown> {
  const properties = (schema['properties'] ?? {}) as Record<string, Record<string, unknown>>;
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(properties)) {
    const options = prop['enum'];
    if (Array.isArray(options) && options.length > 0) out[name] = options[0];
    else if (prop['type'] === 'string') out[name] = content;
    else if (prop['type'] === 'integer' || prop['type'] === 'number') out[name] = content.length;
    else if (prop['type'] === 'boolean') out[name] = true;
    else if (prop['type'] === 'array') out[name] = [];
    else out[name] = {};
  }
  return out;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function error(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, code: string | null = null): void {
  send(res, status, { error: { message, type: status === 401 ? 'invalid_request_error' : 'server_error', param: null, code } }, headers);
}

export async function startOpenAIServer(knobs: Partial<OpenAIServerKnobs> = {}): Promise<OpenAITestServer> {
  const state = { knobs: { ...DEFAULT_KNOBS, ...knobs }, stats: freshStats() };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const { knobs: k, stats } = state;
    const path = (req.url ?? '').split('?')[0] ?? '';
    stats.requests++;
    stats.byPath[path] = (stats.byPath[path] ?? 0) + 1;
    stats.authorizations.push(req.headers.authorization);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      return error(res, 400, 'the body is not JSON');
    }
    stats.lastBody = body;
    stats.bodies.push(body);
    if (k.latencyMs > 0) await new Promise((r) => setTimeout(r, k.latencyMs));
    if (k.apiKey !== undefined && req.headers.authorization !== `Bearer ${k.apiKey}`) return error(res, 401, 'Incorrect API key provided');
    if (k.forbidden) return error(res, 403, 'You are not allowed to use this model');
    const model = body['model'];
    if (k.models !== undefined && !k.models.includes(String(model))) {
      return error(res, k.unknownModelStatus, `The model \`${String(model)}\` does not exist or you do not have access to it.`, {}, 'model_not_found');
    }
    if (k.fail429 > 0) {
      k.fail429--;
      return error(res, 429, 'Rate limit reached', k.retryAfter === null ? {} : { 'retry-after': k.retryAfter });
    }
    if (k.fail500 > 0) {
      k.fail500--;
      return error(res, 500, 'The server had an error while processing your request');
    }
    if (k.dropConnections > 0) {
      k.dropConnections--;
      req.socket.destroy();
      return;
    }
    if (path === '/v1/chat/completions') {
      const messages = body['messages'] as Array<{ content: string }> | undefined;
      const content = messages?.[messages.length - 1]?.content ?? '';
      if (content === k.badInput) return error(res, 400, `input '${content}' is not allowed`);
      const format = body['response_format'] as { type?: string; json_schema?: { schema?: Record<string, unknown> } } | undefined;
      let answer = k.answers[content] ?? `echo: ${content}`;
      if (format?.type === 'json_object') answer = JSON.stringify({ echo: content });
      else if (format?.type === 'json_schema') answer = content === k.notJsonFor ? 'Sure! Here is the JSON you asked for' : JSON.stringify(fakeJsonAnswer(format.json_schema?.schema ?? {}, content));
      return send(res, 200, {
        id: `chatcmpl-${stats.requests}`, object: 'chat.completion', created: 0, model,
        choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }],
        usage: { prompt_tokens: content.length, completion_tokens: answer.length, total_tokens: content.length + answer.length },
      });
    }
    if (path === '/v1/completions') {
      const prompt = String(body['prompt'] ?? '');
      if (prompt === k.badInput) return error(res, 400, `input '${prompt}' is not allowed`);
      return send(res, 200, { id: `cmpl-${stats.requests}`, object: 'text_completion', created: 0, model, choices: [{ index: 0, text: `completion: ${prompt}`, finish_reason: 'stop' }] });
    }
    if (path === '/v1/embeddings') {
      const input = body['input'];
      const texts = Array.isArray(input) ? (input as string[]) : [String(input)];
      if (k.badInput !== undefined && texts.includes(k.badInput)) return error(res, 400, `input '${k.badInput}' is not allowed`);
      const data = texts.map((t, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(t, t === k.shortVectorFor ? k.dimension - 1 : k.dimension) }));
      if (k.reverseEmbeddings) data.reverse();
      return send(res, 200, { object: 'list', data, model, usage: { prompt_tokens: 0, total_tokens: 0 } });
    }
    return error(res, 404, `no route ${req.method ?? ''} ${path}`);
  }

  const server = createServer((req, res) => {
    const { stats } = state;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    res.on('close', () => {
      stats.inFlight--;
      if (!res.writableFinished) stats.aborted++;
    });
    handle(req, res).catch((err: unknown) => error(res, 500, String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    get knobs() {
      return state.knobs;
    },
    get stats() {
      return state.stats;
    },
    set(knobs) {
      Object.assign(state.knobs, knobs);
    },
    reset(knobs = {}) {
      state.knobs = { ...DEFAULT_KNOBS, ...knobs };
      state.stats = freshStats();
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
