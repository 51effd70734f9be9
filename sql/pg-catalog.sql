-- The Postgres catalog for clients (psql's \d, driver type lookups). Loaded into a session's
-- connection the first time one of its statements mentions the catalog (needsPgCatalog in
-- src/rewrite/pg-catalog.ts): about 100 statements (some 50 ms) that would otherwise slow every connect.
-- ---- Postgres catalog views -------------------------------------------------------------------
-- Temp views named like the pg_catalog ones come first on DuckDB's search path, so both
-- `pg_class` and `pg_catalog.pg_class` (which the rewrite layer turns into `pg_class`) read these.
-- Relations and schemas keep DuckDB's OIDs (so pg_index, pg_constraint and pg_description still
-- join); types use Postgres OIDs, the ones the server puts in RowDescription.

-- Postgres builtin types: oid, typname, SQL name (format_type), typlen, category, element, array.
CREATE OR REPLACE TEMP VIEW aiduck_pg_builtin_types AS
SELECT * FROM (VALUES
  (16, 'bool', 'boolean', 1, 'B', 0, 1000),
  (17, 'bytea', 'bytea', -1, 'U', 0, 1001),
  (18, 'char', '"char"', 1, 'Z', 0, 1002),
  (19, 'name', 'name', 64, 'S', 0, 1003),
  (20, 'int8', 'bigint', 8, 'N', 0, 1016),
  (21, 'int2', 'smallint', 2, 'N', 0, 1005),
  (23, 'int4', 'integer', 4, 'N', 0, 1007),
  (24, 'regproc', 'regproc', 4, 'N', 0, 1008),
  (25, 'text', 'text', -1, 'S', 0, 1009),
  (26, 'oid', 'oid', 4, 'N', 0, 1028),
  (114, 'json', 'json', -1, 'U', 0, 199),
  (700, 'float4', 'real', 4, 'N', 0, 1021),
  (701, 'float8', 'double precision', 8, 'N', 0, 1022),
  (705, 'unknown', 'unknown', -2, 'X', 0, 0),
  (1042, 'bpchar', 'character', -1, 'S', 0, 1014),
  (1043, 'varchar', 'character varying', -1, 'S', 0, 1015),
  (1082, 'date', 'date', 4, 'D', 0, 1182),
  (1083, 'time', 'time without time zone', 8, 'D', 0, 1183),
  (1114, 'timestamp', 'timestamp without time zone', 8, 'D', 0, 1115),
  (1184, 'timestamptz', 'timestamp with time zone', 8, 'D', 0, 1185),
  (1186, 'interval', 'interval', 16, 'T', 0, 1187),
  (1266, 'timetz', 'time with time zone', 12, 'D', 0, 1270),
  (1560, 'bit', 'bit', -1, 'V', 0, 1561),
  (1562, 'varbit', 'bit varying', -1, 'V', 0, 1563),
  (1700, 'numeric', 'numeric', -1, 'N', 0, 1231),
  (2205, 'regclass', 'regclass', 4, 'N', 0, 2210),
  (2206, 'regtype', 'regtype', 4, 'N', 0, 2211),
  (2249, 'record', 'record', -1, 'P', 0, 2287),
  (2275, 'cstring', 'cstring', -2, 'P', 0, 1263),
  (2276, 'any', '"any"', 4, 'P', 0, 0),
  (2277, 'anyarray', 'anyarray', -1, 'P', 0, 0),
  (2278, 'void', 'void', 4, 'P', 0, 0),
  (2279, 'trigger', 'trigger', 4, 'P', 0, 0),
  (3838, 'event_trigger', 'event_trigger', 4, 'P', 0, 0),
  (2950, 'uuid', 'uuid', 16, 'U', 0, 2951),
  (3802, 'jsonb', 'jsonb', -1, 'U', 0, 3807),
  (199, '_json', 'json[]', -1, 'A', 114, 0),
  (1000, '_bool', 'boolean[]', -1, 'A', 16, 0),
  (1001, '_bytea', 'bytea[]', -1, 'A', 17, 0),
  (1002, '_char', '"char"[]', -1, 'A', 18, 0),
  (1003, '_name', 'name[]', -1, 'A', 19, 0),
  (1005, '_int2', 'smallint[]', -1, 'A', 21, 0),
  (1007, '_int4', 'integer[]', -1, 'A', 23, 0),
  (1008, '_regproc', 'regproc[]', -1, 'A', 24, 0),
  (1009, '_text', 'text[]', -1, 'A', 25, 0),
  (1014, '_bpchar', 'character[]', -1, 'A', 1042, 0),
  (1015, '_varchar', 'character varying[]', -1, 'A', 1043, 0),
  (1016, '_int8', 'bigint[]', -1, 'A', 20, 0),
  (1021, '_float4', 'real[]', -1, 'A', 700, 0),
  (1022, '_float8', 'double precision[]', -1, 'A', 701, 0),
  (1028, '_oid', 'oid[]', -1, 'A', 26, 0),
  (1115, '_timestamp', 'timestamp without time zone[]', -1, 'A', 1114, 0),
  (1182, '_date', 'date[]', -1, 'A', 1082, 0),
  (1183, '_time', 'time without time zone[]', -1, 'A', 1083, 0),
  (1185, '_timestamptz', 'timestamp with time zone[]', -1, 'A', 1184, 0),
  (1187, '_interval', 'interval[]', -1, 'A', 1186, 0),
  (1231, '_numeric', 'numeric[]', -1, 'A', 1700, 0),
  (1263, '_cstring', 'cstring[]', -1, 'A', 2275, 0),
  (1270, '_timetz', 'time with time zone[]', -1, 'A', 1266, 0),
  (1561, '_bit', 'bit[]', -1, 'A', 1560, 0),
  (1563, '_varbit', 'bit varying[]', -1, 'A', 1562, 0),
  (2210, '_regclass', 'regclass[]', -1, 'A', 2205, 0),
  (2211, '_regtype', 'regtype[]', -1, 'A', 2206, 0),
  (2287, '_record', 'record[]', -1, 'A', 2249, 0),
  (2951, '_uuid', 'uuid[]', -1, 'A', 2950, 0),
  (3807, '_jsonb', 'jsonb[]', -1, 'A', 3802, 0)
) AS t(oid, typname, sqlname, typlen, typcategory, typelem, typarray);

-- DuckDB type names (parameters and array suffixes cut off) and the Postgres type the server
-- sends for them in RowDescription (src/types/column-codec.ts); anything else is sent as text.
CREATE OR REPLACE TEMP VIEW aiduck_duck_types AS
SELECT * FROM (VALUES
  ('BOOLEAN', 16), ('TINYINT', 21), ('SMALLINT', 21), ('UTINYINT', 21), ('INTEGER', 23), ('USMALLINT', 23),
  ('BIGINT', 20), ('UINTEGER', 20), ('UBIGINT', 1700), ('HUGEINT', 1700), ('UHUGEINT', 1700), ('BIGNUM', 1700),
  ('VARINT', 1700), ('DECIMAL', 1700), ('FLOAT', 700), ('DOUBLE', 701), ('VARCHAR', 25), ('JSON', 114),
  ('STRUCT', 114), ('MAP', 114), ('UNION', 114), ('VARIANT', 114), ('BLOB', 17), ('DATE', 1082), ('TIME', 1083),
  ('TIME_NS', 1083), ('TIME WITH TIME ZONE', 1266), ('TIMESTAMP', 1114), ('TIMESTAMP_S', 1114),
  ('TIMESTAMP_MS', 1114), ('TIMESTAMP_NS', 1114), ('TIMESTAMP WITH TIME ZONE', 1184), ('INTERVAL', 1186),
  ('UUID', 2950), ('BIT', 1562)
) AS t(duck, oid);
CREATE OR REPLACE TEMP MACRO aiduck_duck_base(t) AS regexp_replace(t, '(\(.*\))?(\[\d*\])*$', '');
-- Macro bodies below read only helper views whose columns end in `_`: a macro's subquery must not
-- capture the caller's columns (psql passes `c.oid`, DBeaver plain `oid`).
-- The SQL names of the builtin types as a map in a session variable: a lookup without a subquery
-- is cheap in every row of a catalog query, and works in lambdas (pgcli's `proargtypes::regtype[]`).
SET VARIABLE aiduck_type_names = (SELECT map(list(oid), list(sqlname)) FROM aiduck_pg_builtin_types);
CREATE OR REPLACE TEMP MACRO aiduck_builtin_type_name(type_oid_arg) AS getvariable('aiduck_type_names')[type_oid_arg];

-- format_type: a type modifier adds precision and scale to numeric, a length to character types
-- (also in arrays). Builtin names come from the map, other types (enums) from DuckDB.
CREATE OR REPLACE TEMP MACRO format_type(type_oid_arg, typemod_arg) AS CASE
  WHEN type_oid_arg IS NULL THEN NULL
  WHEN typemod_arg >= 4 AND type_oid_arg IN (1700, 1231)
    THEN 'numeric(' || ((typemod_arg - 4) >> 16) || ',' || ((typemod_arg - 4) & 65535) || ')'
         || CASE WHEN type_oid_arg = 1231 THEN '[]' ELSE '' END
  WHEN typemod_arg >= 5 AND type_oid_arg IN (1042, 1043)
    THEN aiduck_builtin_type_name(type_oid_arg) || '(' || (typemod_arg - 4) || ')'
  WHEN typemod_arg >= 5 AND type_oid_arg IN (1014, 1015)
    THEN aiduck_builtin_type_name(type_oid_arg)[:-3] || '(' || (typemod_arg - 4) || ')[]'
  ELSE coalesce(aiduck_builtin_type_name(type_oid_arg),
                (SELECT lower(type_name) FROM duckdb_types() WHERE type_oid = type_oid_arg AND NOT internal),
                '???') END;

CREATE OR REPLACE TEMP VIEW pg_namespace AS
SELECT CAST(oid AS INTEGER) AS oid,
       CASE WHEN database_name = 'temp' THEN 'pg_temp_1' ELSE schema_name END AS nspname,
       10 AS nspowner, CAST(NULL AS VARCHAR[]) AS nspacl
FROM duckdb_schemas()
WHERE database_name = current_database()
   OR (database_name = 'temp' AND schema_name = 'main')
   OR (database_name = 'system' AND schema_name IN ('pg_catalog', 'information_schema'));

CREATE OR REPLACE TEMP MACRO aiduck_pg_catalog_oid() AS
  (SELECT oid FROM duckdb_schemas() WHERE database_name = 'system' AND schema_name = 'pg_catalog');

CREATE OR REPLACE TEMP VIEW pg_type AS
SELECT b.oid, b.typname, CAST(aiduck_pg_catalog_oid() AS INTEGER) AS typnamespace, 10 AS typowner,
       b.typlen, b.typlen > 0 AND b.typlen <= 8 AS typbyval,
       CASE WHEN b.typcategory = 'P' THEN 'p' ELSE 'b' END AS typtype,
       b.typcategory, false AS typispreferred, true AS typisdefined, ',' AS typdelim,
       0 AS typrelid, CASE WHEN b.typelem <> 0 THEN 'array_subscript_handler' ELSE '-' END AS typsubscript,
       b.typelem, b.typarray,
       CASE WHEN b.typelem <> 0 THEN 'array_in' ELSE b.typname || 'in' END AS typinput,
       CASE WHEN b.typelem <> 0 THEN 'array_out' ELSE b.typname || 'out' END AS typoutput,
       CASE WHEN b.typelem <> 0 THEN 'array_recv' ELSE b.typname || 'recv' END AS typreceive,
       CASE WHEN b.typelem <> 0 THEN 'array_send' ELSE b.typname || 'send' END AS typsend,
       '-' AS typmodin, '-' AS typmodout, '-' AS typanalyze,
       CASE WHEN b.typlen = 8 THEN 'd' WHEN b.typlen IN (1, -2) THEN 'c' WHEN b.typlen = 2 THEN 's' ELSE 'i' END AS typalign,
       CASE WHEN b.oid = 1700 THEN 'm' WHEN b.typlen = -1 THEN 'x' ELSE 'p' END AS typstorage,
       false AS typnotnull, 0 AS typbasetype, -1 AS typtypmod, 0 AS typndims,
       CASE WHEN b.typcategory = 'S' THEN 100 ELSE 0 END AS typcollation,
       CAST(NULL AS VARCHAR) AS typdefaultbin, CAST(NULL AS VARCHAR) AS typdefault, CAST(NULL AS VARCHAR[]) AS typacl
FROM aiduck_pg_builtin_types b
UNION ALL
SELECT CAST(t.type_oid AS INTEGER), t.type_name, CAST(t.schema_oid AS INTEGER), 10, -1, false,
       CASE WHEN t.logical_type = 'ENUM' THEN 'e' ELSE 'd' END,
       CASE WHEN t.logical_type = 'ENUM' THEN 'E' ELSE 'U' END, false, true, ',',
       0, '-', 0, 0, 'enum_in', 'enum_out', 'enum_recv', 'enum_send', '-', '-', '-', 'i', 'p',
       false, 0, -1, 0, 0, NULL, NULL, NULL
FROM duckdb_types() t
-- main.jsonb is aiduck's name for JSON (engine/instance.ts), listed above as Postgres' own jsonb.
WHERE NOT t.internal AND t.database_name = current_database() AND NOT (t.schema_name = 'main' AND t.type_name = 'jsonb');

CREATE OR REPLACE TEMP MACRO quote_ident(s) AS
  CASE WHEN regexp_matches(s, '^[a-z_][a-z0-9_$]*$') THEN s ELSE '"' || replace(s, '"', '""') || '"' END;
-- ---- Columns, keys, constraints and indexes ---------------------------------------------------
-- Each column with the Postgres type and type modifier the server reports for it.
-- A varchar(n) column is VARCHAR with the check length(col) <= n (src/rewrite/pg-varchar.ts): its length.
CREATE OR REPLACE TEMP VIEW aiduck_varchar_lengths AS
SELECT table_oid, constraint_column_names[1] AS column_, CAST(regexp_extract(expression, '<= (\d+)\)$', 1) AS INTEGER) AS varchar_length_
FROM duckdb_constraints()
WHERE constraint_type = 'CHECK' AND len(constraint_column_names) = 1
  AND regexp_matches(expression, '^\(length\(("(?:[^"]|"")+"|[A-Za-z_][\w$]*)\) <= \d+\)$');

CREATE OR REPLACE TEMP VIEW aiduck_columns AS
SELECT c.database_name, c.schema_name, c.table_oid, c.table_name, c.column_name, c.column_index, c.is_nullable,
       c.column_default, c.comment, c.data_type,
       CASE WHEN c.data_type LIKE '%]' THEN coalesce(b.typarray, 1009) WHEN v.varchar_length_ IS NOT NULL THEN 1043
            ELSE coalesce(m.oid, 25) END AS pg_oid,
       -- DECIMAL(38,10) is how aiduck stores numeric declared without a precision (src/pg/numeric.ts).
       CASE WHEN regexp_matches(c.data_type, '^DECIMAL\(\d+,\d+\)') AND NOT starts_with(c.data_type, 'DECIMAL(38,10)')
            THEN ((CAST(regexp_extract(c.data_type, '^DECIMAL\((\d+)', 1) AS INTEGER) << 16)
                  | CAST(regexp_extract(c.data_type, '^DECIMAL\(\d+,(\d+)', 1) AS INTEGER)) + 4
            WHEN v.varchar_length_ IS NOT NULL THEN v.varchar_length_ + 4
            ELSE -1 END AS pg_typmod
FROM duckdb_columns() c
LEFT JOIN aiduck_duck_types m ON m.duck = aiduck_duck_base(c.data_type)
LEFT JOIN aiduck_pg_builtin_types b ON b.oid = m.oid
LEFT JOIN aiduck_varchar_lengths v ON v.table_oid = c.table_oid AND v.column_ = c.column_name AND c.data_type = 'VARCHAR'
WHERE c.database_name = current_database() OR (c.database_name = 'temp' AND NOT c.internal);

-- Primary keys, unique, foreign-key and check constraints. DuckDB keeps them per table
-- (duckdb_constraints()) but drops a name given in CONSTRAINT ... and has no OIDs for them, nor
-- for the index a key makes. They get the names Postgres chooses by default ({table}_pkey,
-- {table}_{columns}_key, {table}_{columns}_fkey, {table}_{column}_check or {table}_check) and OIDs
-- counted down from 2^31 - 1 by table OID and position in the table, so that they stay apart from
-- DuckDB's own OIDs (counted up from 0) and are the same in every query.
CREATE OR REPLACE TEMP VIEW aiduck_keys AS
WITH k AS (
  SELECT c.*, row_number() OVER (PARTITION BY c.table_oid ORDER BY c.constraint_index) AS position
  FROM duckdb_constraints() c
  WHERE c.constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY', 'CHECK')
    AND (c.database_name = current_database() OR c.database_name = 'temp')
    -- a varchar(n) column's length check is its type's, not a constraint (see aiduck_varchar_lengths)
    AND NOT (c.constraint_type = 'CHECK' AND len(c.constraint_column_names) = 1
             AND regexp_matches(c.expression, '^\(length\(("(?:[^"]|"")+"|[A-Za-z_][\w$]*)\) <= \d+\)$'))
)
SELECT CAST(2147483647 - ((k.table_oid % 8388608) * 128 + k.position * 2) AS INTEGER) AS key_oid,
       CAST(2147483647 - ((k.table_oid % 8388608) * 128 + k.position * 2 + 1) AS INTEGER) AS key_index_oid,
       CAST(k.table_oid AS INTEGER) AS key_table_oid, CAST(k.schema_oid AS INTEGER) AS key_schema_oid,
       k.schema_name AS key_schema, k.table_name AS key_table,
       CASE k.constraint_type WHEN 'PRIMARY KEY' THEN 'p' WHEN 'UNIQUE' THEN 'u' WHEN 'FOREIGN KEY' THEN 'f' ELSE 'c' END AS key_type,
       k.table_name || CASE k.constraint_type
         WHEN 'PRIMARY KEY' THEN '_pkey'
         WHEN 'UNIQUE' THEN '_' || array_to_string(k.constraint_column_names, '_') || '_key'
         WHEN 'FOREIGN KEY' THEN '_' || array_to_string(k.constraint_column_names, '_') || '_fkey'
         ELSE CASE WHEN len(list_distinct(k.constraint_column_names)) = 1
                   THEN '_' || k.constraint_column_names[1] ELSE '' END || '_check' END AS key_name,
       list_transform(k.constraint_column_indexes, i_ -> CAST(i_ + 1 AS SMALLINT)) AS key_columns,
       k.constraint_column_names AS key_column_names, k.expression AS key_check,
       k.referenced_table AS key_ref_table, k.referenced_column_names AS key_ref_column_names
FROM k;

-- The index relations alone (pg_class, ::regclass), without resolving their columns.
CREATE OR REPLACE TEMP VIEW aiduck_index_relations AS
SELECT key_index_oid AS index_oid, key_name AS index_name, key_schema_oid AS index_schema_oid,
       key_table_oid AS index_table_oid, len(key_columns) AS index_natts
FROM aiduck_keys WHERE key_type IN ('p', 'u')
UNION ALL
SELECT CAST(index_oid AS INTEGER), index_name, CAST(schema_oid AS INTEGER), CAST(table_oid AS INTEGER),
       len(regexp_extract_all(expressions, '''(?:[^'']|'''')*''|"(?:[^"]|"")*"|[^\s,\[\]''"]+'))
FROM duckdb_indexes()
WHERE database_name = current_database() OR database_name = 'temp';

-- Every index as Postgres lists it: the one a primary key or unique constraint makes (named like
-- the constraint), and each CREATE INDEX. Columns are attribute numbers, 0 for an expression.
-- DuckDB lists an index's terms as text, '[a, "b c", ''(lower(d))'']': names, and expressions quoted.
CREATE OR REPLACE TEMP VIEW aiduck_indexes AS
WITH terms AS (
  SELECT i.*, regexp_extract_all(i.expressions, '''(?:[^'']|'''')*''|"(?:[^"]|"")*"|[^\s,\[\]''"]+') AS term_list
  FROM duckdb_indexes() i
  WHERE i.database_name = current_database() OR i.database_name = 'temp'
), term AS (
  SELECT index_oid, table_oid, unnest(term_list) AS term, generate_subscripts(term_list, 1) AS ord FROM terms
), resolved AS (
  SELECT t.index_oid, t.ord, c.column_index AS attnum,
         coalesce(c.column_name, regexp_replace(replace(t.term[2:-2], '''''', ''''), '^\((.*)\)$', '\1')) AS term_name
  FROM term t
  LEFT JOIN duckdb_columns() c
    ON c.table_oid = t.table_oid AND NOT starts_with(t.term, '''')
       AND c.column_name = CASE WHEN starts_with(t.term, '"') THEN replace(t.term[2:-2], '""', '"') ELSE t.term END
), columns_of AS (
  SELECT index_oid, list(CAST(coalesce(attnum, 0) AS SMALLINT) ORDER BY ord) AS index_columns,
         list(term_name ORDER BY ord) AS index_column_names
  FROM resolved GROUP BY index_oid
)
SELECT key_index_oid AS index_oid, key_table_oid AS index_table_oid, key_schema_oid AS index_schema_oid,
       key_schema AS index_schema, key_table AS index_table, key_name AS index_name, true AS index_unique,
       key_type = 'p' AS index_primary, key_columns AS index_columns, key_column_names AS index_column_names
FROM aiduck_keys WHERE key_type IN ('p', 'u')
UNION ALL
SELECT CAST(i.index_oid AS INTEGER), CAST(i.table_oid AS INTEGER), CAST(i.schema_oid AS INTEGER), i.schema_name,
       i.table_name, i.index_name, i.is_unique, i.is_primary, c.index_columns, c.index_column_names
FROM terms i JOIN columns_of c ON c.index_oid = i.index_oid;

-- Each foreign key with the table and key it references (DuckDB names the table, in the same schema).
CREATE OR REPLACE TEMP VIEW aiduck_foreign_keys AS
SELECT k.key_oid, r.key_table_oid AS confrelid, r.key_index_oid AS conindid, r.key_columns AS confkey
FROM aiduck_keys k
JOIN aiduck_keys r
  ON r.key_type IN ('p', 'u') AND r.key_schema = k.key_schema AND r.key_table = k.key_ref_table
     AND r.key_column_names = k.key_ref_column_names
WHERE k.key_type = 'f';

CREATE OR REPLACE TEMP VIEW pg_class AS
SELECT CAST(table_oid AS INTEGER) AS oid, table_name AS relname, CAST(schema_oid AS INTEGER) AS relnamespace, 0 AS reltype, 0 AS reloftype,
       10 AS relowner, 2 AS relam, table_oid AS relfilenode, 0 AS reltablespace, 0 AS relpages,
       CAST(estimated_size AS FLOAT) AS reltuples, 0 AS relallvisible, 0 AS reltoastrelid,
       index_count > 0 OR table_oid IN (SELECT table_oid FROM duckdb_constraints()
                                         WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE')) AS relhasindex,
       false AS relisshared,
       CASE WHEN "temporary" THEN 't' ELSE 'p' END AS relpersistence, 'r' AS relkind,
       column_count AS relnatts, check_constraint_count AS relchecks, false AS relhasrules,
       -- Postgres enforces a foreign key with triggers on both tables; psql's \d looks for keys only then.
       table_oid IN (SELECT table_oid FROM duckdb_constraints() WHERE constraint_type = 'FOREIGN KEY')
         OR (schema_name, table_name) IN (SELECT (schema_name, referenced_table) FROM duckdb_constraints()
                                          WHERE constraint_type = 'FOREIGN KEY') AS relhastriggers,
       false AS relhassubclass, false AS relrowsecurity, false AS relforcerowsecurity,
       true AS relispopulated, 'd' AS relreplident, false AS relispartition, 0 AS relrewrite,
       0 AS relfrozenxid, 0 AS relminmxid, CAST(NULL AS VARCHAR[]) AS relacl,
       CAST(NULL AS VARCHAR[]) AS reloptions, CAST(NULL AS VARCHAR) AS relpartbound, has_primary_key AS relhaspkey
FROM duckdb_tables()
-- The temporary tables that hold SCROLL and WITH HOLD cursors (session/cursors.ts) are not the user's.
WHERE (database_name = current_database() OR database_name = 'temp') AND NOT starts_with(table_name, '__aiduck_cursor_')
UNION ALL
SELECT view_oid, view_name, schema_oid, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, false, false,
       CASE WHEN "temporary" THEN 't' ELSE 'p' END, 'v', column_count, 0, true, false, false, false, false,
       true, 'n', false, 0, 0, 0, NULL, NULL, NULL, false
FROM duckdb_views()
WHERE NOT internal AND database_name = current_database()
UNION ALL
SELECT sequence_oid, sequence_name, schema_oid, 0, 0, 10, 0, sequence_oid, 0, 0, 0, 0, 0, false, false,
       CASE WHEN "temporary" THEN 't' ELSE 'p' END, 'S', 3, 0, false, false, false, false, false,
       true, 'n', false, 0, 0, 0, NULL, NULL, NULL, false
FROM duckdb_sequences()
WHERE database_name = current_database() OR database_name = 'temp'
UNION ALL
SELECT index_oid, index_name, index_schema_oid, 0, 0, 10, 403, index_oid, 0, 0, 0, 0, 0, false, false,
       'p', 'i', index_natts, 0, false, false, false, false, false,
       true, 'n', false, 0, 0, 0, NULL, NULL, NULL, false
FROM aiduck_index_relations;

-- The default btree operator class of each type (indclass), with Postgres' OIDs.
CREATE OR REPLACE TEMP VIEW pg_opclass AS
SELECT oid, 403 AS opcmethod, opcname, CAST(aiduck_pg_catalog_oid() AS INTEGER) AS opcnamespace, 10 AS opcowner,
       opcfamily, opcintype, true AS opcdefault, 0 AS opckeytype
FROM (VALUES (10003, 'bool_ops', 424, 16), (10006, 'bytea_ops', 428, 17), (10007, 'char_ops', 429, 18),
             (3124, 'int8_ops', 1976, 20), (1979, 'int2_ops', 1976, 21), (1978, 'int4_ops', 1976, 23),
             (3126, 'text_ops', 1994, 25), (1981, 'oid_ops', 1989, 26), (10012, 'float4_ops', 1970, 700),
             (3123, 'float8_ops', 1970, 701), (10004, 'bpchar_ops', 426, 1042), (3122, 'date_ops', 434, 1082),
             (10038, 'time_ops', 1996, 1083), (3128, 'timestamp_ops', 434, 1114), (3127, 'timestamptz_ops', 434, 1184),
             (10022, 'interval_ops', 1982, 1186), (10041, 'timetz_ops', 2000, 1266), (10002, 'bit_ops', 423, 1560),
             (10043, 'varbit_ops', 2002, 1562), (3125, 'numeric_ops', 1988, 1700), (10000, 'array_ops', 397, 2277),
             (10065, 'uuid_ops', 2968, 2950), (10088, 'jsonb_ops', 4033, 3802)) AS t(oid, opcname, opcfamily, opcintype);

-- indkey lists attribute numbers (0 for an expression); Postgres' int2vector, whose subscripts
-- start at 0, is a list here (src/rewrite/pg-catalog.ts shifts subscripts and casts to text).
CREATE OR REPLACE TEMP VIEW pg_index AS
WITH keys AS (
  SELECT x.index_oid, x.index_table_oid, unnest(x.index_columns) AS attnum, generate_subscripts(x.index_columns, 1) AS ord
  FROM aiduck_indexes x
), key_classes AS (
  SELECT k.index_oid,
         list(CASE WHEN c.pg_oid = 25 THEN 100 ELSE 0 END ORDER BY k.ord) AS collations,
         list(coalesce(o.oid, CASE WHEN c.data_type LIKE '%]' THEN 10000 ELSE 3126 END) ORDER BY k.ord) AS classes
  FROM keys k
  LEFT JOIN aiduck_columns c ON c.table_oid = k.index_table_oid AND c.column_index = k.attnum
  LEFT JOIN pg_opclass o ON o.opcintype = c.pg_oid
  GROUP BY k.index_oid
)
SELECT x.index_oid AS indexrelid, x.index_table_oid AS indrelid, CAST(len(x.index_columns) AS SMALLINT) AS indnatts,
       CAST(len(x.index_columns) AS SMALLINT) AS indnkeyatts, x.index_unique AS indisunique, false AS indnullsnotdistinct,
       x.index_primary AS indisprimary, false AS indisexclusion, true AS indimmediate, false AS indisclustered,
       true AS indisvalid, false AS indcheckxmin, true AS indisready, true AS indislive, false AS indisreplident,
       x.index_columns AS indkey, k.collations AS indcollation, k.classes AS indclass,
       list_transform(x.index_columns, k_ -> CAST(0 AS SMALLINT)) AS indoption,
       CASE WHEN list_contains(x.index_columns, 0)
            THEN array_to_string(list_filter(list_transform(list_zip(x.index_columns, x.index_column_names),
                                                            c_ -> CASE WHEN c_[1] = 0 THEN c_[2] END), e_ -> e_ IS NOT NULL), ', ')
       END AS indexprs,
       CAST(NULL AS VARCHAR) AS indpred
FROM aiduck_indexes x LEFT JOIN key_classes k ON k.index_oid = x.index_oid;

-- pg_index.indkey selected as is (src/rewrite/pg-catalog.ts) goes out as an int2vector: the one-field
-- struct is the marker the column codec (src/pg/types/column-codec.ts) sends as OID 22, `1 2`.
CREATE OR REPLACE TEMP MACRO aiduck_int2vector_out(vector_arg) AS
  CASE WHEN vector_arg IS NULL THEN NULL ELSE {'aiduck_int2vector': vector_arg} END;

CREATE OR REPLACE TEMP VIEW pg_constraint AS
SELECT k.key_oid AS oid, k.key_name AS conname, k.key_schema_oid AS connamespace, k.key_type AS contype,
       false AS condeferrable, false AS condeferred, true AS convalidated, k.key_table_oid AS conrelid,
       0 AS contypid,
       CASE WHEN k.key_type IN ('p', 'u') THEN k.key_index_oid ELSE coalesce(r.conindid, 0) END AS conindid,
       0 AS conparentid, coalesce(r.confrelid, 0) AS confrelid,
       CASE WHEN k.key_type = 'f' THEN 'a' ELSE ' ' END AS confupdtype,
       CASE WHEN k.key_type = 'f' THEN 'a' ELSE ' ' END AS confdeltype,
       CASE WHEN k.key_type = 'f' THEN 's' ELSE ' ' END AS confmatchtype,
       true AS conislocal, 0 AS coninhcount, false AS connoinherit, k.key_columns AS conkey,
       r.confkey,
       CAST(NULL AS INTEGER[]) AS conpfeqop, CAST(NULL AS INTEGER[]) AS conppeqop, CAST(NULL AS INTEGER[]) AS conffeqop,
       CAST(NULL AS SMALLINT[]) AS confdelsetcols, CAST(NULL AS INTEGER[]) AS conexclop, k.key_check AS conbin
FROM aiduck_keys k LEFT JOIN aiduck_foreign_keys r ON r.key_oid = k.key_oid;

-- pg_get_constraintdef as Postgres words it; the referenced table has its schema unless it is the current one.
CREATE OR REPLACE TEMP VIEW aiduck_constraint_defs AS
SELECT k.key_oid AS con_oid_,
       CASE k.key_type
         WHEN 'p' THEN 'PRIMARY KEY (' || array_to_string(list_transform(k.key_column_names, n_ -> quote_ident(n_)), ', ') || ')'
         WHEN 'u' THEN 'UNIQUE (' || array_to_string(list_transform(k.key_column_names, n_ -> quote_ident(n_)), ', ') || ')'
         WHEN 'f' THEN 'FOREIGN KEY (' || array_to_string(list_transform(k.key_column_names, n_ -> quote_ident(n_)), ', ')
                       || ') REFERENCES '
                       || CASE WHEN k.key_schema = current_schema() THEN '' ELSE quote_ident(k.key_schema) || '.' END
                       || quote_ident(k.key_ref_table)
                       || '(' || array_to_string(list_transform(k.key_ref_column_names, n_ -> quote_ident(n_)), ', ') || ')'
         ELSE 'CHECK (' || k.key_check || ')' END AS con_def_
FROM aiduck_keys k;
-- Pretty-printed (psql), a check's condition loses the parentheses Postgres adds around it.
CREATE OR REPLACE TEMP MACRO pg_get_constraintdef(con_oid_arg) AS
  (SELECT con_def_ FROM aiduck_constraint_defs WHERE con_oid_ = con_oid_arg),
  (con_oid_arg, pretty_arg) AS
  (SELECT CASE WHEN pretty_arg AND con_def_ LIKE 'CHECK ((%))' THEN 'CHECK ' || con_def_[8:-2] ELSE con_def_ END
   FROM aiduck_constraint_defs WHERE con_oid_ = con_oid_arg);

-- pg_get_indexdef: the whole CREATE INDEX (column 0), or one column's name or expression.
CREATE OR REPLACE TEMP VIEW aiduck_index_defs AS
SELECT x.index_oid AS idx_oid_,
       list_transform(list_zip(x.index_columns, x.index_column_names),
                      c_ -> CASE WHEN c_[1] = 0 THEN c_[2] ELSE quote_ident(c_[2]) END) AS idx_terms_,
       'CREATE ' || CASE WHEN x.index_unique THEN 'UNIQUE ' ELSE '' END || 'INDEX ' || quote_ident(x.index_name)
       || ' ON ' || quote_ident(x.index_schema) || '.' || quote_ident(x.index_table) || ' USING btree ('
       || array_to_string(list_transform(list_zip(x.index_columns, x.index_column_names),
            c_ -> CASE WHEN c_[1] <> 0 THEN quote_ident(c_[2])
                       WHEN regexp_matches(c_[2], '^[A-Za-z_][A-Za-z0-9_.]*\(.*\)$') THEN c_[2]
                       ELSE '(' || c_[2] || ')' END), ', ') || ')' AS idx_def_
FROM aiduck_indexes x;
CREATE OR REPLACE TEMP MACRO pg_get_indexdef(index_oid_arg) AS
  (SELECT idx_def_ FROM aiduck_index_defs WHERE idx_oid_ = index_oid_arg),
  (index_oid_arg, col_arg, pretty_arg) AS
  (SELECT CASE WHEN col_arg = 0 THEN idx_def_ ELSE idx_terms_[col_arg] END FROM aiduck_index_defs WHERE idx_oid_ = index_oid_arg);

CREATE OR REPLACE TEMP VIEW pg_attribute AS
SELECT CAST(c.table_oid AS INTEGER) AS attrelid, c.column_name AS attname, c.pg_oid AS atttypid,
       -1 AS attstattarget, CAST(coalesce(b.typlen, -1) AS SMALLINT) AS attlen, CAST(c.column_index AS SMALLINT) AS attnum,
       CASE WHEN c.data_type LIKE '%]' THEN 1 ELSE 0 END AS attndims, -1 AS attcacheoff, c.pg_typmod AS atttypmod,
       coalesce(b.typlen BETWEEN 1 AND 8, false) AS attbyval,
       CASE WHEN c.pg_oid = 1700 THEN 'm' WHEN coalesce(b.typlen, -1) = -1 THEN 'x' ELSE 'p' END AS attstorage,
       CASE WHEN b.typlen = 8 THEN 'd' WHEN b.typlen = 1 THEN 'c' WHEN b.typlen = 2 THEN 's' ELSE 'i' END AS attalign,
       NOT c.is_nullable AS attnotnull, c.column_default IS NOT NULL AS atthasdef, false AS atthasmissing,
       '' AS attidentity, '' AS attgenerated, false AS attisdropped, true AS attislocal, 0 AS attinhcount,
       CASE WHEN c.pg_oid = 25 THEN 100 ELSE 0 END AS attcollation,
       CAST(NULL AS VARCHAR) AS attcompression, CAST(NULL AS VARCHAR[]) AS attacl,
       CAST(NULL AS VARCHAR[]) AS attoptions, CAST(NULL AS VARCHAR[]) AS attfdwoptions, CAST(NULL AS VARCHAR) AS attmissingval
FROM aiduck_columns c LEFT JOIN aiduck_pg_builtin_types b ON b.oid = c.pg_oid
UNION ALL
-- An index's own columns (psqlODBC's SQLPrimaryKeys joins them), numbered from 1.
SELECT k.index_oid, coalesce(c.column_name, 'expr'), coalesce(c.pg_oid, 25), -1,
       CAST(coalesce(b.typlen, -1) AS SMALLINT), CAST(k.ord AS SMALLINT), 0, -1, coalesce(c.pg_typmod, -1),
       coalesce(b.typlen BETWEEN 1 AND 8, false), 'p', 'i', false, false, false, '', '', false, true, 0,
       CASE WHEN c.pg_oid = 25 THEN 100 ELSE 0 END, NULL, NULL, NULL, NULL, NULL
FROM (SELECT index_oid, index_table_oid, unnest(index_columns) AS attnum, generate_subscripts(index_columns, 1) AS ord
      FROM aiduck_indexes) k
LEFT JOIN aiduck_columns c ON c.table_oid = k.index_table_oid AND c.column_index = k.attnum
LEFT JOIN aiduck_pg_builtin_types b ON b.oid = c.pg_oid;

-- A column default as Postgres prints it (pg_get_expr): DuckDB stores `DEFAULT true` as
-- CAST('t' AS BOOLEAN) and a text default without its type; Postgres types a negative number
-- literal and a string, and gives nextval its regclass.
CREATE OR REPLACE TEMP MACRO aiduck_pg_default(default_arg) AS CASE
  WHEN default_arg = 'CAST(''t'' AS BOOLEAN)' THEN 'true'
  WHEN default_arg = 'CAST(''f'' AS BOOLEAN)' THEN 'false'
  WHEN regexp_matches(default_arg, '^''(?:[^'']|'''')*''$') THEN default_arg || '::text'
  WHEN regexp_matches(default_arg, '^-\d+$') THEN '''' || default_arg || '''::'
       || CASE WHEN TRY_CAST(default_arg AS INTEGER) IS NULL THEN 'bigint' ELSE 'integer' END
  WHEN regexp_matches(default_arg, '^-\d*\.\d+$') THEN '''' || default_arg || '''::numeric'
  WHEN regexp_matches(default_arg, '^nextval\(''(?:[^'']|'''')*''\)$') THEN replace(default_arg, ''')', '''::regclass)')
  WHEN lower(default_arg) IN ('current_date', 'current_time', 'current_timestamp', 'localtime', 'localtimestamp')
    THEN upper(default_arg)
  ELSE default_arg END;
CREATE OR REPLACE TEMP VIEW pg_attrdef AS
SELECT table_oid * 10000 + column_index AS oid, CAST(table_oid AS INTEGER) AS adrelid,
       CAST(column_index AS SMALLINT) AS adnum, aiduck_pg_default(column_default) AS adbin
FROM duckdb_columns()
WHERE column_default IS NOT NULL AND (database_name = current_database() OR database_name = 'temp');
-- The sequence a column's default draws from (nextval('seq')), with its schema, as Postgres'
-- pg_get_serial_sequence answers.
CREATE OR REPLACE TEMP VIEW aiduck_serial_columns AS
SELECT schema_name AS serial_schema_, table_name AS serial_table_, column_name AS serial_column_,
       -- A serial or identity column made by aiduck names its sequence with its schema (session/sequence-columns.ts).
       CASE WHEN contains(regexp_extract(column_default, '^nextval\(''((?:[^'']|'''')*)''\)$', 1), '.')
            THEN regexp_extract(column_default, '^nextval\(''((?:[^'']|'''')*)''\)$', 1)
            ELSE quote_ident(schema_name) || '.' || regexp_extract(column_default, '^nextval\(''((?:[^'']|'''')*)''\)$', 1) END AS serial_sequence_
FROM duckdb_columns()
WHERE regexp_matches(column_default, '^nextval\(''(?:[^'']|'''')*''\)$')
  AND (database_name = current_database() OR database_name = 'temp');

CREATE OR REPLACE TEMP VIEW pg_database AS
SELECT CAST(database_oid AS INTEGER) AS oid, database_name AS datname, 10 AS datdba, 6 AS encoding, 'c' AS datlocprovider,
       false AS datistemplate, true AS datallowconn, -1 AS datconnlimit, 0 AS datfrozenxid, 0 AS datminmxid,
       1663 AS dattablespace, 'C' AS datcollate, 'C' AS datctype, CAST(NULL AS VARCHAR) AS daticulocale,
       CAST(NULL AS VARCHAR) AS datcollversion, CAST(NULL AS VARCHAR[]) AS datacl
FROM duckdb_databases()
WHERE NOT internal;

CREATE OR REPLACE TEMP VIEW pg_roles AS
SELECT 10 AS oid, pg_get_userbyid(10) AS rolname, true AS rolsuper, true AS rolinherit, true AS rolcreaterole,
       true AS rolcreatedb, true AS rolcanlogin, false AS rolreplication, false AS rolbypassrls,
       -1 AS rolconnlimit, '********' AS rolpassword, CAST(NULL AS TIMESTAMPTZ) AS rolvaliduntil,
       CAST(NULL AS VARCHAR[]) AS rolconfig;
CREATE OR REPLACE TEMP VIEW pg_authid AS SELECT * FROM pg_roles;
CREATE OR REPLACE TEMP VIEW pg_user AS
SELECT rolname AS usename, oid AS usesysid, rolcreatedb AS usecreatedb, rolsuper AS usesuper,
       rolreplication AS userepl, rolbypassrls AS usebypassrls, rolpassword AS passwd,
       rolvaliduntil AS valuntil, rolconfig AS useconfig
FROM pg_roles;
CREATE OR REPLACE TEMP VIEW pg_auth_members AS
SELECT 0 AS oid, 0 AS roleid, 0 AS member, 0 AS grantor, false AS admin_option WHERE false;

CREATE OR REPLACE TEMP VIEW pg_am AS
SELECT * FROM (VALUES (2, 'heap', 'heap_tableam_handler', 't'), (403, 'btree', 'bthandler', 'i'))
  AS t(oid, amname, amhandler, amtype);


-- The Postgres name of a DuckDB type, for function signatures (\df). Plain expressions only: it
-- runs inside a lambda.
CREATE OR REPLACE TEMP MACRO aiduck_pg_type_name(t_arg) AS CASE lower(t_arg)
  WHEN 'varchar' THEN 'text' WHEN 'double' THEN 'double precision' WHEN 'float' THEN 'real'
  WHEN 'blob' THEN 'bytea' WHEN 'tinyint' THEN 'smallint' WHEN 'hugeint' THEN 'numeric'
  WHEN 'timestamp' THEN 'timestamp without time zone' WHEN 'time' THEN 'time without time zone'
  ELSE coalesce(replace(lower(t_arg), 'decimal', 'numeric'), '"any"') END;
CREATE OR REPLACE TEMP VIEW pg_language AS
SELECT * FROM (VALUES (12, 'internal', 10, false, false, 0, 0, 2246), (13, 'c', 10, false, false, 0, 0, 2247),
                      (14, 'sql', 10, false, true, 0, 0, 2248))
  AS t(oid, lanname, lanowner, lanispl, lanpltrusted, lanplcallfoid, laninline, lanvalidator);
-- Functions a user or aiduck defined (builtins are listed under pg_catalog, as Postgres does).
-- A macro is a function in language sql whose source is the macro's body. aiduck's helper macros
-- (__ai_query's callers, __register_model_args, ...: main.__*) are listed with the builtins, so that
-- \df shows what users call.
CREATE OR REPLACE TEMP VIEW pg_proc AS
SELECT CAST(f.function_oid AS INTEGER) AS oid, f.function_name AS proname,
       CAST(CASE WHEN f.internal OR s.oid IS NULL OR (f.schema_name = 'main' AND starts_with(f.function_name, '__')) THEN aiduck_pg_catalog_oid()
                 ELSE s.oid END AS INTEGER) AS pronamespace,
       10 AS proowner, CASE WHEN f.macro_definition IS NOT NULL THEN 14 ELSE 12 END AS prolang, 1 AS procost,
       0 AS prorows, 0 AS provariadic, '-' AS prosupport,
       CASE f.function_type WHEN 'aggregate' THEN 'a' ELSE 'f' END AS prokind,
       false AS prosecdef, false AS proleakproof, false AS proisstrict,
       f.function_type IN ('table', 'table_macro') AS proretset,
       CASE f.stability WHEN 'CONSISTENT' THEN 'i' WHEN 'CONSISTENT_WITHIN_QUERY' THEN 's' ELSE 'v' END AS provolatile,
       'u' AS proparallel, len(f.parameters) AS pronargs, 0 AS pronargdefaults,
       CASE WHEN f.function_type IN ('table', 'table_macro') THEN 2249
            WHEN f.return_type IS NULL THEN 2276 ELSE coalesce(m.oid, 25) END AS prorettype,
       CAST(NULL AS BIGINT[]) AS proargtypes,
       CAST(NULL AS BIGINT[]) AS proallargtypes, CAST(NULL AS VARCHAR[]) AS proargmodes,
       f.parameters AS proargnames, CAST(NULL AS VARCHAR) AS proargdefaults,
       coalesce(f.macro_definition, f.function_name) AS prosrc, CAST(NULL AS VARCHAR) AS probin,
       CAST(NULL AS VARCHAR) AS prosqlbody, CAST(NULL AS VARCHAR[]) AS proconfig, CAST(NULL AS VARCHAR[]) AS proacl,
       f.function_type AS aiduck_function_type
FROM duckdb_functions() f
LEFT JOIN duckdb_schemas() s ON s.database_name = f.database_name AND s.schema_name = f.schema_name
                              AND f.database_name = current_database()
LEFT JOIN aiduck_duck_types m ON m.duck = aiduck_duck_base(f.return_type)
WHERE f.database_name <> 'temp';

CREATE OR REPLACE TEMP VIEW aiduck_functions AS
SELECT function_oid AS fn_oid_, function_name AS fn_name_, schema_name AS fn_schema_, function_type AS fn_type_,
       return_type AS fn_return_, parameters AS fn_params_, parameter_types AS fn_param_types_,
       macro_definition AS fn_body_, internal AS fn_internal_, database_name = current_database() AS fn_user_, comment AS fn_comment_
FROM duckdb_functions();
CREATE OR REPLACE TEMP MACRO pg_get_function_result(fn_oid_arg) AS
  (SELECT CASE WHEN fn_type_ IN ('table', 'table_macro') THEN 'TABLE' ELSE aiduck_pg_type_name(fn_return_) END
   FROM aiduck_functions WHERE fn_oid_ = fn_oid_arg LIMIT 1);
-- aiduck's own functions take their arguments from ai.functions (udfs/catalog.ts): typed where the
-- type is fixed, with defaults, as Postgres writes them; DuckDB's macros have neither.
CREATE OR REPLACE TEMP MACRO aiduck_declared_arguments(fn_name_arg, fn_schema_arg, fn_user_arg) AS
  (SELECT any_value(arguments) FROM ai.functions WHERE name = fn_name_arg AND fn_schema_arg = 'main' AND fn_user_arg);
CREATE OR REPLACE TEMP MACRO pg_get_function_arguments(fn_oid_arg) AS
  (SELECT coalesce(aiduck_declared_arguments(fn_name_, fn_schema_, fn_user_),
                   array_to_string(list_transform(list_zip(fn_params_, fn_param_types_),
                                                  arg_ -> arg_[1] || ' ' || aiduck_pg_type_name(arg_[2])), ', '))
   FROM aiduck_functions WHERE fn_oid_ = fn_oid_arg LIMIT 1);
CREATE OR REPLACE TEMP MACRO pg_get_function_identity_arguments(fn_oid_arg) AS
  (SELECT array_to_string(fn_params_, ', ') FROM aiduck_functions WHERE fn_oid_ = fn_oid_arg LIMIT 1);
CREATE OR REPLACE TEMP MACRO pg_function_is_visible(fn_oid_arg) AS true;
-- Postgres' information_schema._pg_expandarray (pgJDBC's key queries): the elements of an array
-- with their positions, as rows of (x, n).
CREATE OR REPLACE TEMP MACRO _pg_expandarray(arr_arg) AS
  unnest(list_transform(range(1, len(arr_arg) + 1), expand_n_ -> {'x': arr_arg[expand_n_], 'n': CAST(expand_n_ AS INTEGER)}));
-- Rules and triggers DuckDB does not have.
CREATE OR REPLACE TEMP MACRO pg_get_ruledef(rule_oid_arg) AS CAST(NULL AS VARCHAR),
  (rule_oid_arg, pretty_arg) AS CAST(NULL AS VARCHAR);
CREATE OR REPLACE TEMP MACRO pg_get_triggerdef(trigger_oid_arg) AS CAST(NULL AS VARCHAR),
  (trigger_oid_arg, pretty_arg) AS CAST(NULL AS VARCHAR);
-- Relations by name and schema (::regclass, visibility), read straight from DuckDB: the macros
-- using it are created with every session's catalog, and binding pg_class each time costs.
CREATE OR REPLACE TEMP VIEW aiduck_relations AS
SELECT r.rel_oid_, r.rel_name_, CASE WHEN s.database_name = 'temp' THEN 'pg_temp_1' ELSE s.schema_name END AS rel_schema_
FROM (SELECT CAST(table_oid AS INTEGER) AS rel_oid_, table_name AS rel_name_, schema_oid FROM duckdb_tables()
      WHERE (database_name = current_database() OR database_name = 'temp') AND NOT starts_with(table_name, '__aiduck_cursor_')
      UNION ALL SELECT CAST(view_oid AS INTEGER), view_name, schema_oid FROM duckdb_views()
      WHERE NOT internal AND database_name = current_database()
      UNION ALL SELECT CAST(sequence_oid AS INTEGER), sequence_name, schema_oid FROM duckdb_sequences()
      WHERE database_name = current_database() OR database_name = 'temp'
      UNION ALL SELECT index_oid, index_name, index_schema_oid FROM aiduck_index_relations) r
JOIN duckdb_schemas() s ON s.oid = r.schema_oid;
CREATE OR REPLACE TEMP MACRO pg_table_is_visible(rel_oid_arg) AS
  coalesce((SELECT rel_schema_ = current_schema() OR rel_schema_ LIKE 'pg_temp%'
            FROM aiduck_relations WHERE rel_oid_ = rel_oid_arg), false);
CREATE OR REPLACE TEMP MACRO pg_type_is_visible(type_oid_arg) AS true;
-- A temp macro hides every overload of the built-in of the same name, so each lists them all.
CREATE OR REPLACE TEMP MACRO pg_get_expr(expr_arg, rel_oid_arg) AS expr_arg, (expr_arg, rel_oid_arg, pretty_arg) AS expr_arg;
-- A view's query (Postgres returns the query, not the CREATE VIEW).
CREATE OR REPLACE TEMP VIEW aiduck_view_defs AS
SELECT view_oid AS view_oid_,
       regexp_replace("sql", '^CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?VIEW\s+.+?\s+AS\s+', '', 's') AS view_def_
FROM duckdb_views();
CREATE OR REPLACE TEMP MACRO pg_get_viewdef(view_oid_arg) AS
  (SELECT view_def_ FROM aiduck_view_defs WHERE view_oid_ = view_oid_arg),
  (view_oid_arg, pretty_arg) AS (SELECT view_def_ FROM aiduck_view_defs WHERE view_oid_ = view_oid_arg);
CREATE OR REPLACE TEMP MACRO pg_relation_size(rel_oid_arg) AS 0;
CREATE OR REPLACE TEMP MACRO pg_total_relation_size(rel_oid_arg) AS 0;
CREATE OR REPLACE TEMP MACRO pg_table_size(rel_oid_arg) AS 0;
CREATE OR REPLACE TEMP MACRO pg_is_in_recovery() AS false;
CREATE OR REPLACE TEMP MACRO txid_current() AS 1;
CREATE OR REPLACE TEMP MACRO pg_current_xact_id() AS 1;
CREATE OR REPLACE TEMP MACRO pg_tablespace_location(ts_oid_arg) AS '';
CREATE OR REPLACE TEMP MACRO array_upper(arr_arg, dim_arg) AS CASE WHEN len(arr_arg) > 0 THEN len(arr_arg) END;
CREATE OR REPLACE TEMP MACRO array_lower(arr_arg, dim_arg) AS CASE WHEN len(arr_arg) > 0 THEN 1 END;
CREATE OR REPLACE TEMP MACRO current_schemas(include_implicit) AS
  CASE WHEN include_implicit THEN ['pg_catalog', current_schema()] ELSE [current_schema()] END;
CREATE OR REPLACE TEMP MACRO session_user() AS pg_get_userbyid(10);
-- ::regclass / ::regtype / ::regnamespace in catalog queries become these (src/rewrite/pg-catalog.ts).
CREATE OR REPLACE TEMP MACRO aiduck_ident_last(name_arg) AS
  lower(trim(string_split(replace(name_arg, 'pg_catalog.', ''), '.')[-1], '"'));
CREATE OR REPLACE TEMP MACRO aiduck_ident_first(name_arg) AS lower(trim(string_split(name_arg, '.')[1], '"'));
CREATE OR REPLACE TEMP VIEW aiduck_catalog_relations AS
SELECT * FROM (VALUES (1247, 'pg_type'), (1249, 'pg_attribute'), (1255, 'pg_proc'), (1259, 'pg_class'),
                      (1262, 'pg_database'), (2604, 'pg_attrdef'), (2606, 'pg_constraint'), (2609, 'pg_description'),
                      (2610, 'pg_index'), (2615, 'pg_namespace'), (1260, 'pg_authid'), (3456, 'pg_collation'))
  AS k(cat_oid_, cat_name_);
-- Macros that use an argument more than once take it through a one-row subquery: a macro copies
-- its argument at every use, and an argument that is itself a lookup (SQLAlchemy's
-- `pg_get_serial_sequence(...)::regclass`) would be planned once per copy.
CREATE OR REPLACE TEMP MACRO aiduck_regclass(name_arg) AS
  (SELECT coalesce(TRY_CAST(n_ AS BIGINT),
                   (SELECT arg_max(rel_oid_, rel_schema_ = current_schema()) FROM aiduck_relations
                    WHERE rel_name_ = aiduck_ident_last(n_) AND (NOT contains(n_, '.') OR rel_schema_ = aiduck_ident_first(n_))),
                   (SELECT any_value(cat_oid_) FROM aiduck_catalog_relations WHERE cat_name_ = aiduck_ident_last(n_)))
   FROM (SELECT name_arg AS n_));
-- oid::regclass names a relation outside the current schema with its schema, as Postgres does.
CREATE OR REPLACE TEMP MACRO aiduck_regclass_name(rel_oid_arg) AS
  coalesce((SELECT CASE WHEN rel_schema_ = current_schema() OR rel_schema_ LIKE 'pg_temp%' THEN quote_ident(rel_name_)
                        ELSE quote_ident(rel_schema_) || '.' || quote_ident(rel_name_) END
            FROM aiduck_relations WHERE rel_oid_ = rel_oid_arg),
           (SELECT cat_name_ FROM aiduck_catalog_relations WHERE cat_oid_ = rel_oid_arg),
           CAST(rel_oid_arg AS VARCHAR));
CREATE OR REPLACE TEMP VIEW aiduck_types AS
SELECT t.oid AS type_oid_, t.typname AS type_typname_, b.sqlname AS type_name_
FROM pg_type t LEFT JOIN aiduck_pg_builtin_types b ON b.oid = t.oid;
CREATE OR REPLACE TEMP MACRO aiduck_regtype(name_arg) AS
  (SELECT (SELECT min(type_oid_) FROM aiduck_types
           WHERE type_typname_ = aiduck_ident_last(n_) OR type_name_ = lower(replace(n_, 'pg_catalog.', '')))
   FROM (SELECT name_arg AS n_));
CREATE OR REPLACE TEMP VIEW aiduck_schemas AS SELECT oid AS nsp_oid_, nspname AS nsp_name_ FROM pg_namespace;
CREATE OR REPLACE TEMP MACRO aiduck_regnamespace(name_arg) AS
  (SELECT nsp_oid_ FROM aiduck_schemas WHERE nsp_name_ = trim(name_arg, '"'));
CREATE OR REPLACE TEMP MACRO aiduck_regnamespace_name(ns_oid_arg) AS
  coalesce((SELECT nsp_name_ FROM aiduck_schemas WHERE nsp_oid_ = ns_oid_arg), CAST(ns_oid_arg AS VARCHAR));
CREATE OR REPLACE TEMP MACRO pg_get_keywords() AS TABLE
  SELECT keyword_name AS word,
         CASE keyword_category WHEN 'reserved' THEN 'R' WHEN 'unreserved' THEN 'U'
              WHEN 'type_function' THEN 'T' ELSE 'C' END AS catcode,
         keyword_category AS catdesc
  FROM duckdb_keywords();

-- Comments (COMMENT ON), keyed like Postgres by object, catalog (pg_class, pg_proc, pg_namespace)
-- and column number.
CREATE OR REPLACE TEMP VIEW pg_description AS
SELECT CAST(table_oid AS INTEGER) AS objoid, 1259 AS classoid, 0 AS objsubid, comment AS description
FROM duckdb_tables() WHERE comment IS NOT NULL AND (database_name = current_database() OR database_name = 'temp')
UNION ALL
SELECT CAST(table_oid AS INTEGER), 1259, column_index, comment
FROM duckdb_columns() WHERE comment IS NOT NULL AND (database_name = current_database() OR database_name = 'temp')
UNION ALL
SELECT CAST(view_oid AS INTEGER), 1259, 0, comment
FROM duckdb_views() WHERE comment IS NOT NULL AND NOT internal AND database_name = current_database()
UNION ALL
SELECT CAST(index_oid AS INTEGER), 1259, 0, comment
FROM duckdb_indexes() WHERE comment IS NOT NULL AND (database_name = current_database() OR database_name = 'temp')
UNION ALL
SELECT CAST(sequence_oid AS INTEGER), 1259, 0, comment
FROM duckdb_sequences() WHERE comment IS NOT NULL AND (database_name = current_database() OR database_name = 'temp')
UNION ALL
SELECT CAST(function_oid AS INTEGER), 1255, 0, comment
FROM duckdb_functions() WHERE comment IS NOT NULL AND NOT internal AND database_name = current_database()
UNION ALL
SELECT CAST(oid AS INTEGER), 2615, 0, comment
FROM duckdb_schemas() WHERE comment IS NOT NULL AND database_name = current_database();
CREATE OR REPLACE TEMP VIEW aiduck_descriptions AS
SELECT objoid AS dsc_oid_, classoid AS dsc_class_, objsubid AS dsc_sub_, description AS dsc_text_ FROM pg_description;
CREATE OR REPLACE TEMP MACRO obj_description(obj_oid_arg) AS
  (SELECT first(dsc_text_) FROM aiduck_descriptions WHERE dsc_oid_ = obj_oid_arg AND dsc_sub_ = 0),
  (obj_oid_arg, catalog_arg) AS
  (SELECT first(dsc_text_) FROM aiduck_descriptions WHERE dsc_oid_ = obj_oid_arg AND dsc_sub_ = 0
     AND dsc_class_ = CASE aiduck_ident_last(catalog_arg) WHEN 'pg_class' THEN 1259 WHEN 'pg_proc' THEN 1255
                                                          WHEN 'pg_namespace' THEN 2615 ELSE -1 END);
CREATE OR REPLACE TEMP MACRO col_description(rel_oid_arg, col_arg) AS
  (SELECT first(dsc_text_) FROM aiduck_descriptions WHERE dsc_oid_ = rel_oid_arg AND dsc_class_ = 1259 AND dsc_sub_ = col_arg);
CREATE OR REPLACE TEMP MACRO shobj_description(obj_oid_arg, catalog_arg) AS CAST(NULL AS VARCHAR);

-- \sf and \ef: a macro's definition as a statement that recreates it here, after its comment (for
-- aiduck's functions: the description and an example) and declared arguments as SQL comments.
CREATE OR REPLACE TEMP MACRO pg_get_functiondef(fn_oid_arg) AS
  -- aiduck's own functions are printed with their description and arguments (ai.functions); a user's as Postgres prints them.
  (SELECT coalesce(CASE WHEN aiduck_declared_arguments(fn_name_, fn_schema_, fn_user_) IS NOT NULL
                        THEN '-- ' || replace(fn_comment_, E'\n', E'\n-- ') || E'\n' END, '')
          || coalesce('-- Arguments: ' || aiduck_declared_arguments(fn_name_, fn_schema_, fn_user_) || E'\n', '')
          || 'CREATE OR REPLACE MACRO ' || quote_ident(fn_schema_) || '.' || quote_ident(fn_name_)
          || '(' || array_to_string(fn_params_, ', ') || ') AS '
          || CASE WHEN fn_type_ = 'table_macro' THEN 'TABLE ' ELSE '' END || fn_body_ || E'\n'
   FROM aiduck_functions WHERE fn_oid_ = fn_oid_arg AND fn_body_ IS NOT NULL LIMIT 1);
CREATE OR REPLACE TEMP MACRO pg_get_function_sqlbody(fn_oid_arg) AS CAST(NULL AS VARCHAR);
-- ::regproc of a function's name, for \sf ('name'::regproc::oid): user functions first.
CREATE OR REPLACE TEMP MACRO aiduck_regproc(name_arg) AS
  (SELECT (SELECT arg_max(fn_oid_, (fn_user_, NOT fn_internal_)) FROM aiduck_functions
           WHERE fn_name_ = aiduck_ident_last(n_) AND (NOT contains(n_, '.') OR fn_schema_ = aiduck_ident_first(n_)))
   FROM (SELECT name_arg AS n_));

CREATE OR REPLACE TEMP MACRO pg_get_serial_sequence(table_arg, column_arg) AS
  (SELECT (SELECT any_value(serial_sequence_) FROM aiduck_serial_columns
           WHERE serial_table_ = aiduck_ident_last(t_) AND serial_column_ = trim(c_, '"')
             AND serial_schema_ = CASE WHEN contains(t_, '.') THEN aiduck_ident_first(t_) ELSE current_schema() END)
   FROM (SELECT table_arg AS t_, column_arg AS c_));

-- json_build_object(key, value, ...) for up to eight pairs (SQLAlchemy's column reflection builds one).
CREATE OR REPLACE TEMP MACRO json_build_object() AS json_object(),
  (k1, v1) AS json_object(CAST(k1 AS VARCHAR), v1),
  (k1, v1, k2, v2) AS json_object(CAST(k1 AS VARCHAR), v1, CAST(k2 AS VARCHAR), v2),
  (k1, v1, k2, v2, k3, v3) AS json_object(CAST(k1 AS VARCHAR), v1, CAST(k2 AS VARCHAR), v2, CAST(k3 AS VARCHAR), v3),
  (k1, v1, k2, v2, k3, v3, k4, v4) AS json_object(CAST(k1 AS VARCHAR), v1, CAST(k2 AS VARCHAR), v2, CAST(k3 AS VARCHAR), v3, CAST(k4 AS VARCHAR), v4),
  (k1, v1, k2, v2, k3, v3, k4, v4, k5, v5) AS json_object(CAST(k1 AS VARCHAR), v1, CAST(k2 AS VARCHAR), v2, CAST(k3 AS VARCHAR), v3, CAST(k4 AS VARCHAR), v4, CAST(k5 AS VARCHAR), v5),
  (k1, v1, k2, v2, k3, v3, k4, v4, k5, v5, k6, v6) AS json_object(CAST(k1 AS VARCHAR), v1, CAST(k2 AS VARCHAR), v2, CAST(k3 AS VARCHAR), v3, CAST(k4 AS VARCHAR), v4, CAST(k5 AS VARCHAR), v5, CAST(k6 AS VARCHAR), v6),
  (k1, v1, k2, v2, k3, v3, k4, v4, k5, v5, k6, v6, k7, v7)
    AS json_object(CAST(k1 AS VARCHAR), v1, CAST(k2 AS VARCHAR), v2, CAST(k3 AS VARCHAR), v3, CAST(k4 AS VARCHAR), v4, CAST(k5 AS VARCHAR), v5, CAST(k6 AS VARCHAR), v6, CAST(k7 AS VARCHAR), v7),
  (k1, v1, k2, v2, k3, v3, k4, v4, k5, v5, k6, v6, k7, v7, k8, v8)
    AS json_object(CAST(k1 AS VARCHAR), v1, CAST(k2 AS VARCHAR), v2, CAST(k3 AS VARCHAR), v3, CAST(k4 AS VARCHAR), v4, CAST(k5 AS VARCHAR), v5, CAST(k6 AS VARCHAR), v6, CAST(k7 AS VARCHAR), v7, CAST(k8 AS VARCHAR), v8);

-- Catalogs of features DuckDB does not have: empty, so psql's \d finds nothing to list.
CREATE OR REPLACE TEMP VIEW pg_policy AS
SELECT 0 AS oid, '' AS polname, 0 AS polrelid, '' AS polcmd, true AS polpermissive,
       CAST(NULL AS BIGINT[]) AS polroles, CAST(NULL AS VARCHAR) AS polqual, CAST(NULL AS VARCHAR) AS polwithcheck WHERE false;
CREATE OR REPLACE TEMP VIEW pg_statistic_ext AS
SELECT 0 AS oid, 0 AS stxrelid, '' AS stxname, 0 AS stxnamespace, 0 AS stxowner, 0 AS stxstattarget,
       CAST(NULL AS INTEGER[]) AS stxkeys, CAST(NULL AS VARCHAR[]) AS stxkind, CAST(NULL AS VARCHAR) AS stxexprs WHERE false;
CREATE OR REPLACE TEMP VIEW pg_publication AS
SELECT 0 AS oid, '' AS pubname, 0 AS pubowner, false AS puballtables, false AS pubinsert, false AS pubupdate,
       false AS pubdelete, false AS pubtruncate, false AS pubviaroot WHERE false;
CREATE OR REPLACE TEMP VIEW pg_publication_rel AS
SELECT 0 AS oid, 0 AS prpubid, 0 AS prrelid, CAST(NULL AS VARCHAR) AS prqual, CAST(NULL AS INTEGER[]) AS prattrs WHERE false;
CREATE OR REPLACE TEMP VIEW pg_publication_namespace AS SELECT 0 AS oid, 0 AS pnpubid, 0 AS pnnspid WHERE false;
CREATE OR REPLACE TEMP VIEW pg_inherits AS
SELECT 0 AS inhrelid, 0 AS inhparent, 0 AS inhseqno, false AS inhdetachpending WHERE false;
CREATE OR REPLACE TEMP VIEW pg_trigger AS
SELECT 0 AS oid, 0 AS tgrelid, 0 AS tgparentid, '' AS tgname, 0 AS tgfoid, 0 AS tgtype, '' AS tgenabled,
       false AS tgisinternal, 0 AS tgconstrrelid, 0 AS tgconstrindid, 0 AS tgconstraint WHERE false;
CREATE OR REPLACE TEMP VIEW pg_rewrite AS
SELECT 0 AS oid, '' AS rulename, 0 AS ev_class, '' AS ev_type, '' AS ev_enabled, false AS is_instead WHERE false;
CREATE OR REPLACE TEMP VIEW pg_foreign_table AS SELECT 0 AS ftrelid, 0 AS ftserver, CAST(NULL AS VARCHAR[]) AS ftoptions WHERE false;
CREATE OR REPLACE TEMP VIEW pg_partitioned_table AS SELECT 0 AS partrelid, '' AS partstrat, 0 AS partnatts WHERE false;
-- A table is its own only ancestor; the second column stands for WITH ORDINALITY (psql's trigger list).
CREATE OR REPLACE TEMP MACRO pg_partition_ancestors(rel_oid_arg) AS TABLE SELECT CAST(rel_oid_arg AS BIGINT) AS relid, 1 AS depth;
CREATE OR REPLACE TEMP MACRO pg_get_statisticsobjdef_columns(stat_oid_arg) AS CAST(NULL AS VARCHAR);
CREATE OR REPLACE TEMP MACRO pg_relation_is_publishable(rel_oid_arg) AS false;
-- DuckDB's settings plus the read-only Postgres ones clients look up here.
CREATE OR REPLACE TEMP VIEW pg_settings AS
SELECT name, setting, short_desc, vartype, CAST(NULL AS VARCHAR) AS unit, 'user' AS context, 'default' AS source
FROM pg_catalog.pg_settings
UNION ALL
SELECT name, setting, '', 'string', NULL, 'internal', 'default'
FROM (VALUES ('server_version', '15.0'), ('server_version_num', '150000'), ('server_encoding', 'UTF8'),
             ('max_index_keys', '32'), ('max_identifier_length', '63'), ('integer_datetimes', 'on'),
             ('standard_conforming_strings', 'on'), ('block_size', '8192')) AS t(name, setting);

-- The sessions of this server (udfs/pg_backends.ts).
CREATE OR REPLACE TEMP VIEW pg_stat_activity AS
SELECT 1 AS datid, datname, pid, leader_pid, 10 AS usesysid, usename, application_name, client_addr, client_hostname, client_port,
       backend_start, xact_start, query_start, state_change, wait_event_type, wait_event, state,
       CAST(NULL AS INTEGER) AS backend_xid, CAST(NULL AS INTEGER) AS backend_xmin, CAST(NULL AS BIGINT) AS query_id, query, backend_type
FROM aiduck_stat_activity();
