import { SqlError } from '../errors/sql-error.js';

/** A model named in SQL: which registered model, and which of its versions. */
export type ModelRef =
  | { name: string; kind: 'default' }
  | { name: string; kind: 'alias'; alias: string }
  | { name: string; kind: 'version'; version: number };

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Checks a model name as register_model accepts it: a letter or _, then letters, digits, _ . - */
export function checkModelName(name: string): string {
  if (!NAME.test(name)) {
    throw new SqlError('42602', `invalid model name "${name}"`, 'a model name starts with a letter or _ and holds only letters, digits, _, . and -');
  }
  return name;
}

/**
 * Parses `name`, `name@alias`, `name/3`, `models:/name@alias` and `models:/name/3`. A bare name
 * means the `champion` alias when it is set, else the latest version.
 */
export function parseModelRef(text: string): ModelRef {
  const ref = text.trim().replace(/^models:\//, '');
  const at = ref.lastIndexOf('@');
  if (at > 0) return { name: checkModelName(ref.slice(0, at)), kind: 'alias', alias: checkAlias(ref.slice(at + 1), false) };
  const m = /^(.+)\/(\d+)$/.exec(ref);
  if (m) return { name: checkModelName(m[1]!), kind: 'version', version: Number(m[2]) };
  if (ref.includes('/')) {
    throw new SqlError('22023', `invalid model reference "${text}"`, 'use name, name@alias, name/<version>, models:/name@alias or models:/name/<version>');
  }
  return { name: checkModelName(ref), kind: 'default' };
}

/** Checks an alias; `latest` can be read (the newest version) but never set. */
export function checkAlias(alias: string, forSetting = true): string {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(alias)) {
    throw new SqlError('42602', `invalid alias "${alias}"`, 'an alias starts with a letter or _ and holds only letters, digits, _ and -');
  }
  if (forSetting && /^latest$/i.test(alias)) throw new SqlError('42602', '"latest" is reserved: it always means the newest version');
  return alias;
}

export const formatRef = (ref: ModelRef): string =>
  ref.kind === 'alias' ? `${ref.name}@${ref.alias}` : ref.kind === 'version' ? `${ref.name}/${ref.version}` : ref.name;
