import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import { sqlString } from '../sqltext/quote.js';
import type { ArtifactStore } from './artifact-store.js';

/**
 * What may change about a model after its versions are written (as in MLflow): tags and
 * descriptions of a model and of its versions, and the deletion of a version nothing points to.
 * A version's source, artifacts, task and provider never change.
 */

const lit = (v: string | null): string => (v === null ? 'NULL' : sqlString(v));

async function count(conn: DuckDBConnection, sql: string): Promise<number> {
  return Number((await conn.runAndReadAll(sql)).getRows()[0]![0]);
}

async function requireModel(conn: DuckDBConnection, name: string): Promise<void> {
  if (await count(conn, `SELECT count(*) FROM ai.model_versions WHERE name = ${lit(name)}`) === 0) {
    throw new SqlError('42704', `model ${name} is not registered`, 'SELECT name FROM ai.models lists the registered models');
  }
}

async function requireVersion(conn: DuckDBConnection, name: string, version: number): Promise<void> {
  if (await count(conn, `SELECT count(*) FROM ai.model_versions WHERE name = ${lit(name)} AND version = ${version}`) === 0) {
    throw new SqlError('42704', `model ${name} has no version ${version}`);
  }
}

export function checkTagKey(key: string | null): string {
  if (!key || !key.trim()) throw new SqlError('22004', 'a tag needs a key');
  if (key.length > 250) throw new SqlError('22023', 'a tag key has at most 250 characters');
  return key;
}

/** Sets a tag of a version, or of the model when `version` is null. */
export async function setTag(conn: DuckDBConnection, name: string, version: number | null, key: string, value: string | null): Promise<void> {
  if (version === null) {
    await requireModel(conn, name);
    await conn.run(`INSERT OR REPLACE INTO ai.model_tags VALUES (${lit(name)}, ${lit(key)}, ${lit(value)})`);
    return;
  }
  await requireVersion(conn, name, version);
  await conn.run(`UPDATE ai.model_versions SET tags = map_from_entries(list_append(
      list_filter(map_entries(coalesce(tags, MAP {})), e -> e.key <> ${lit(key)}), {'key': ${lit(key)}, 'value': ${lit(value)}}))
    WHERE name = ${lit(name)} AND version = ${version}`);
}

/** Deletes a tag of a version, or of the model when `version` is null (42704 when there is none). */
export async function deleteTag(conn: DuckDBConnection, name: string, version: number | null, key: string): Promise<void> {
  if (version === null) {
    if (await count(conn, `SELECT count(*) FROM ai.model_tags WHERE name = ${lit(name)} AND key = ${lit(key)}`) === 0) {
      throw new SqlError('42704', `model ${name} has no tag ${key}`);
    }
    await conn.run(`DELETE FROM ai.model_tags WHERE name = ${lit(name)} AND key = ${lit(key)}`);
    return;
  }
  await requireVersion(conn, name, version);
  if (await count(conn, `SELECT count(*) FROM ai.model_versions WHERE name = ${lit(name)} AND version = ${version} AND list_contains(map_keys(coalesce(tags, MAP {})), ${lit(key)})`) === 0) {
    throw new SqlError('42704', `version ${version} of model ${name} has no tag ${key}`);
  }
  await conn.run(`UPDATE ai.model_versions SET tags = map_from_entries(list_filter(map_entries(tags), e -> e.key <> ${lit(key)}))
    WHERE name = ${lit(name)} AND version = ${version}`);
}

/** Sets the description of a version, or of the model when `version` is null. */
export async function setDescription(conn: DuckDBConnection, name: string, version: number | null, description: string | null): Promise<void> {
  if (version === null) {
    await requireModel(conn, name);
    await conn.run(`INSERT OR REPLACE INTO ai.model_descriptions VALUES (${lit(name)}, ${lit(description)})`);
    return;
  }
  await requireVersion(conn, name, version);
  await conn.run(`UPDATE ai.model_versions SET description = ${lit(description)} WHERE name = ${lit(name)} AND version = ${version}`);
}

/**
 * Deletes a version that no alias points to and no adapter runs on. Its artifacts are deleted once
 * no other version holds the same files; the runs that made it keep their records. Returns the
 * artifact folder to remove after the transaction commits (null when it is still referenced).
 */
export async function deleteVersion(conn: DuckDBConnection, store: ArtifactStore, name: string, version: number): Promise<string | null> {
  await requireVersion(conn, name, version);
  const aliases = (await conn.runAndReadAll(`SELECT alias FROM ai.model_aliases WHERE name = ${lit(name)} AND version = ${version} ORDER BY alias`)).getRows().map((r) => String(r[0]));
  if (aliases.length) {
    throw new SqlError('55006', `version ${version} of model ${name} is in use by its alias${aliases.length > 1 ? 'es' : ''} ${aliases.join(', ')}`,
      `move or delete the alias first: set_model_alias('${name}', '${aliases[0]}', <another version>) or delete_model_alias('${name}', '${aliases[0]}')`);
  }
  const uri = `models:/${name}/${version}`;
  const adapters = (await conn.runAndReadAll(`SELECT uri FROM ai.model_versions WHERE base_model = ${lit(uri)} ORDER BY uri`)).getRows().map((r) => String(r[0]));
  if (adapters.length) {
    throw new SqlError('2BP01', `version ${version} of model ${name} is the base of ${adapters.join(', ')}`, 'delete or merge those adapter versions first');
  }
  const ref = `${name}/${version}`;
  const heads = (await conn.runAndReadAll(`SELECT uri FROM ai.model_versions WHERE tags['embedding_model'] = ${lit(ref)} ORDER BY uri`)).getRows().map((r) => String(r[0]));
  if (heads.length) {
    throw new SqlError('2BP01', `version ${version} of model ${name} embeds for the classifier${heads.length > 1 ? 's' : ''} ${heads.join(', ')}`, 'delete those classifier versions first');
  }
  const digest = (await conn.runAndReadAll(`SELECT artifact_digest FROM ai.model_versions WHERE name = ${lit(name)} AND version = ${version}`)).getRows()[0]![0];
  await conn.run(`DELETE FROM ai.model_versions WHERE name = ${lit(name)} AND version = ${version}`);
  await conn.run(`DELETE FROM ai.model_aliases WHERE name = ${lit(name)} AND version = ${version}`);
  if (digest === null) return null;
  const folder = join(store.root, String(digest));
  // The files stay while another version holds them, or a run that produced them (runs:/ registers from it).
  const users = await count(conn, `SELECT (SELECT count(*) FROM ai.model_versions WHERE artifact_digest = ${lit(String(digest))})
    + (SELECT count(*) FROM ai.run_records WHERE artifact = ${lit(folder)})`);
  return users === 0 ? folder : null;
}

