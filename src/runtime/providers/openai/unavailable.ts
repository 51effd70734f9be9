/**
 * Failures every row of a call would meet alike and no retry fixes: nothing answers at the address,
 * the key is refused, the endpoint does not know the model. They fail the call as a whole with the
 * SQLSTATE a Postgres client expects and the endpoint's own words, instead of one error per row.
 */
import { ModelUnavailable } from '../../provider.js';
import { isUnreachable, type PostOutcome } from './http.js';

export interface EndpointIdentity {
  /** `name/version` of the registered model. */
  label: string;
  /** The base URL as it may be shown. */
  base: string;
  /** The model name at the endpoint. */
  model: string;
  apiKeyEnv: string | undefined;
}

type Failed = PostOutcome & { ok: false };

/** Answers of 400/422 that say the model name is unknown (LiteLLM, TGI, llama.cpp and others use 400, not 404). */
const UNKNOWN_MODEL = /model[^.]*\b(not found|does not exist|not exist|unknown|not available|invalid model)|(unknown|invalid|no such) model|model_not_found/i;

/** The ModelUnavailable error for a failure that no row can get past, or undefined for a row's own failure. */
export function unavailableError(outcome: Failed, who: EndpointIdentity): ModelUnavailable | undefined {
  const message = `model ${who.label}: ${outcome.error}`;
  if (outcome.kind === 'network' && isUnreachable(outcome.cause)) {
    const hint = outcome.cause === 'BAD_PORT'
      ? 'Node\'s fetch refuses to connect to this port (it is on the list of ports browsers block): serve the endpoint on another port'
      : `is the endpoint running and reachable from the aiduck server at ${who.base}? Start it, or register the model again with the right URL: ` +
        `register_model('${who.label.split('/')[0] ?? ''}', 'openai:<base URL>', endpoint_model => '${who.model}')`;
    return new ModelUnavailable('08001', message, hint);
  }
  if (outcome.status === 401 || outcome.status === 403) {
    const hint = who.apiKeyEnv
      ? `check the API key in environment variable ${who.apiKeyEnv} of the aiduck server, and that it may use model '${who.model}'`
      : 'the endpoint wants an API key: put it in an environment variable AIDUCK_KEY_<NAME> when starting aiduck and register the model with api_key_env => \'AIDUCK_KEY_<NAME>\'';
    return new ModelUnavailable('28000', message, hint);
  }
  if (outcome.status === 404 || ((outcome.status === 400 || outcome.status === 422) && UNKNOWN_MODEL.test(outcome.said ?? ''))) {
    return new ModelUnavailable('42704', message,
      `check the base URL ${who.base} (most servers serve the API under /v1) and the endpoint model name '${who.model}' (the name the endpoint lists under /models)`);
  }
  return undefined;
}
