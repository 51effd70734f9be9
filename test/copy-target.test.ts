import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusalOfCopyTarget } from '../src/pg/copy-target.js';

// COPY ... TO may write only under files/ and the import directories: DuckDB itself always lets
// SQL write its database file, write-ahead log and spill files, so the target is checked first.
let data: string;
let files: string;
let imports: string;

beforeAll(() => {
  data = realpathSync(mkdtempSync(join(tmpdir(), 'aiduck-fence-')));
  files = join(data, 'files');
  imports = join(data, '..', `${data.split('/').pop()}-imports`);
  mkdirSync(files);
  mkdirSync(imports, { recursive: true });
  symlinkSync(data, join(files, 'to-data'));
  symlinkSync(join(files, 'sub'), join(files, 'to-sub'));
  mkdirSync(join(files, 'sub'));
});
afterAll(() => {
  rmSync(data, { recursive: true, force: true });
  rmSync(imports, { recursive: true, force: true });
});

const check = (sql: string): string | null => {
  const r = refusalOfCopyTarget(sql, [files + '/', imports + '/']);
  return r ? `${r.code} ${r.message} | ${r.hint ?? ""}` : null;
};

describe('refusalOfCopyTarget', () => {
  it('lets COPY write files under files/ and the import directories, through links that stay inside', () => {
    expect(check(`COPY t TO '${files}/t.csv'`)).toBeNull();
    expect(check(`COPY (SELECT 1) TO '${files}/new/dir/t.parquet' (FORMAT parquet)`)).toBeNull();
    expect(check(`copy t to 'file://${imports}/t.csv' (header)`)).toBeNull();
    expect(check(`COPY t TO '${files}/to-sub/t.csv'`)).toBeNull();
    expect(check(`EXPLAIN ANALYZE COPY t TO '${files}/x.csv'`)).toBeNull();
    expect(check(`COPY t TO "${files}/quoted.csv"`)).toBeNull();
  });

  it('refuses the database file, its side files and the spill directory however the path is written', () => {
    for (const target of [`${data}/aiduck.duckdb`, `${data}/aiduck.duckdb.wal`, `${data}/aiduck.duckdb.wal.recovery`,
      `${files}/../aiduck.duckdb.wal.checkpoint`, `${files}//../tmp/duckdb_temp_storage-0.tmp`, `${files}/to-data/aiduck.duckdb`,
      `file://${data}/aiduck.duckdb`, `${data}/tmp/copy-x.csv`, '/etc/passwd']) {
      expect(check(`COPY (SELECT 1) TO '${target}' (USE_TMP_FILE false)`), target).toMatch(/^42501 COPY \.\.\. TO '.*' is not allowed on this server/);
    }
    expect(check(`COPY (SELECT 1) TO '${files}/to-data/aiduck.duckdb'`)).toMatch(/leads to .*aiduck\.duckdb/);
  });

  it('refuses a target computed when the statement runs, and relative paths', () => {
    for (const sql of [`COPY t TO ('${files}/a' || '.csv')`, `COPY t TO (getvariable('p'))`, 'COPY t TO $1',
      `PREPARE p AS COPY t TO $1`, `COPY t TO E'${files}/x.csv'`]) {
      expect(check(sql), sql).toMatch(/^42501 COPY \.\.\. TO takes its file name as a string literal/);
    }
    expect(check(`COPY t TO 'aiduck.duckdb'`)).toMatch(/^42501 .*must be an absolute path/);
  });

  it('leaves every other statement, COPY FROM and COPY TO STDOUT alone', () => {
    for (const sql of ['SELECT 1', `COPY t FROM '${data}/x.csv'`, 'COPY t TO STDOUT', 'COPY (SELECT \'to\') TO STDOUT (FORMAT csv)',
      `SELECT * FROM read_csv('${files}/x.csv') -- COPY t TO '/etc/x'`, `INSERT INTO t SELECT 'COPY t TO ''/etc/x'''`]) {
      expect(check(sql), sql).toBeNull();
    }
  });
});
