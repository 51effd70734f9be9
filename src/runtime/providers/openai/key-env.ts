import { SqlError } from '../../../errors/sql-error.js';

/**
 * Which environment variables an endpoint's `api_key_env` may name. The server's environment also
 * holds its own secrets (AIDUCK_PASSWORD, HF_TOKEN, ...), and whatever a variable holds is sent to
 * the endpoint as a Bearer token: so only variables named AIDUCK_KEY_<anything>, or allowed by
 * name by the operator (--allow-key-env), are read, and never one of aiduck's own.
 */
export const KEY_ENV_PREFIX = 'AIDUCK_KEY_';

/** aiduck's own variables: never an endpoint's key, even when an operator lists them. */
export function isOwnVariable(name: string): boolean {
  return (name.startsWith('AIDUCK_') && !name.startsWith(KEY_ENV_PREFIX)) || name === 'HF_TOKEN' || name === 'HF_ENDPOINT';
}

/** Throws 42501 unless `name` may hold an endpoint's API key under the operator's allow-list. */
export function checkKeyEnv(name: string, allowed: readonly string[]): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new SqlError('22023', 'api_key_env must name an environment variable, not hold a key', `e.g. api_key_env => '${KEY_ENV_PREFIX}OPENAI'`);
  }
  if (!isOwnVariable(name) && (name.startsWith(KEY_ENV_PREFIX) && name.length > KEY_ENV_PREFIX.length || allowed.includes(name))) return;
  throw new SqlError('42501', `api_key_env "${name}" is not allowed: the server sends endpoints only variables named ${KEY_ENV_PREFIX}* or allowed by its operator`,
    isOwnVariable(name) ? 'aiduck\'s own settings are never sent to an endpoint' : `put the key in ${KEY_ENV_PREFIX}<NAME> when starting aiduck, or start it with --allow-key-env ${name}`);
}
