-- The Postgres catalog for clients (psql's \d, driver type lookups). Loaded into a session's
-- connection the first time one of its statements mentions the catalog (needsPgCatalog in
-- src/engine/pg-compat.ts): about 60 statements that would otherwise slow every connect.
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
CREATE OR REPLACE TEMP VIEW aiduck_type_names AS
SELECT oid AS type_oid_, sqlname AS type_name_ FROM aiduck_pg_builtin_types;
CREATE OR REPLACE TEMP MACRO format_type(type_oid_arg, typemod_arg) AS CASE
  WHEN type_oid_arg IS NULL THEN NULL
  WHEN type_oid_arg = 1700 AND typemod_arg >= 4
    THEN 'numeric(' || ((typemod_arg - 4) >> 16) || ',' || ((typemod_arg - 4) & 65535) || ')'
  ELSE coalesce((SELECT type_name_ FROM aiduck_type_names WHERE type_oid_ = type_oid_arg),
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
       CASE WHEN b.typlen = -1 THEN 'x' ELSE 'p' END AS typstorage,
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
WHERE NOT t.internal AND t.database_name = current_database();

CREATE OR REPLACE TEMP VIEW pg_class AS
SELECT CAST(table_oid AS INTEGER) AS oid, table_name AS relname, CAST(schema_oid AS INTEGER) AS relnamespace, 0 AS reltype, 0 AS reloftype,
       10 AS relowner, 2 AS relam, table_oid AS relfilenode, 0 AS reltablespace, 0 AS relpages,
       CAST(estimated_size AS FLOAT) AS reltuples, 0 AS relallvisible, 0 AS reltoastrelid,
       index_count > 0 AS relhasindex, false AS relisshared,
       CASE WHEN "temporary" THEN 't' ELSE 'p' END AS relpersistence, 'r' AS relkind,
       column_count AS relnatts, check_constraint_count AS relchecks, false AS relhasrules,
       false AS relhastriggers, false AS relhassubclass, false AS relrowsecurity, false AS relforcerowsecurity,
       true AS relispopulated, 'd' AS relreplident, false AS relispartition, 0 AS relrewrite,
       0 AS relfrozenxid, 0 AS relminmxid, CAST(NULL AS VARCHAR[]) AS relacl,
       CAST(NULL AS VARCHAR[]) AS reloptions, CAST(NULL AS VARCHAR) AS relpartbound, has_primary_key AS relhaspkey
FROM duckdb_tables()
WHERE database_name = current_database() OR database_name = 'temp'
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
SELECT index_oid, index_name, schema_oid, 0, 0, 10, 403, index_oid, 0, 0, 0, 0, 0, false, false,
       'p', 'i', 1, 0, false, false, false, false, false,
       true, 'n', false, 0, 0, 0, NULL, NULL, NULL, false
FROM duckdb_indexes()
WHERE database_name = current_database() OR database_name = 'temp';

CREATE OR REPLACE TEMP VIEW pg_attribute AS
WITH cols AS (
  SELECT c.*, CASE WHEN c.data_type LIKE '%]' THEN coalesce(b.typarray, 1009) ELSE coalesce(m.oid, 25) END AS pg_oid
  FROM duckdb_columns() c
  LEFT JOIN aiduck_duck_types m ON m.duck = aiduck_duck_base(c.data_type)
  LEFT JOIN aiduck_pg_builtin_types b ON b.oid = m.oid
  WHERE c.database_name = current_database() OR (c.database_name = 'temp' AND NOT c.internal)
)
SELECT CAST(c.table_oid AS INTEGER) AS attrelid, c.column_name AS attname, c.pg_oid AS atttypid,
       -1 AS attstattarget, CAST(coalesce(b.typlen, -1) AS SMALLINT) AS attlen, c.column_index AS attnum,
       CASE WHEN c.data_type LIKE '%]' THEN 1 ELSE 0 END AS attndims, -1 AS attcacheoff,
       CASE WHEN c.data_type LIKE 'DECIMAL(%' THEN ((c.numeric_precision << 16) | c.numeric_scale) + 4 ELSE -1 END AS atttypmod,
       coalesce(b.typlen BETWEEN 1 AND 8, false) AS attbyval, 'p' AS attstorage, 'i' AS attalign,
       NOT c.is_nullable AS attnotnull, c.column_default IS NOT NULL AS atthasdef, false AS atthasmissing,
       '' AS attidentity, '' AS attgenerated, false AS attisdropped, true AS attislocal, 0 AS attinhcount,
       CASE WHEN c.pg_oid = 25 THEN 100 ELSE 0 END AS attcollation,
       CAST(NULL AS VARCHAR) AS attcompression, CAST(NULL AS VARCHAR[]) AS attacl,
       CAST(NULL AS VARCHAR[]) AS attoptions, CAST(NULL AS VARCHAR[]) AS attfdwoptions, CAST(NULL AS VARCHAR) AS attmissingval
FROM cols c LEFT JOIN aiduck_pg_builtin_types b ON b.oid = c.pg_oid;

CREATE OR REPLACE TEMP VIEW pg_attrdef AS
SELECT table_oid * 10000 + column_index AS oid, table_oid AS adrelid, column_index AS adnum, column_default AS adbin
FROM duckdb_columns()
WHERE column_default IS NOT NULL AND (database_name = current_database() OR database_name = 'temp');

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
-- Functions a user or aiduck defined (builtins are listed under pg_catalog, as Postgres does).
CREATE OR REPLACE TEMP VIEW pg_proc AS
SELECT CAST(f.function_oid AS INTEGER) AS oid, f.function_name AS proname,
       CAST(CASE WHEN f.internal OR s.oid IS NULL THEN aiduck_pg_catalog_oid() ELSE s.oid END AS INTEGER) AS pronamespace,
       10 AS proowner, 14 AS prolang, 1 AS procost, 0 AS prorows, 0 AS provariadic, '-' AS prosupport,
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
       CAST(NULL AS VARCHAR) AS prosrc, CAST(NULL AS VARCHAR) AS probin, f.macro_definition AS prosqlbody,
       CAST(NULL AS VARCHAR[]) AS proconfig, CAST(NULL AS VARCHAR[]) AS proacl,
       f.function_type AS aiduck_function_type
FROM duckdb_functions() f
LEFT JOIN duckdb_schemas() s ON s.database_name = f.database_name AND s.schema_name = f.schema_name
                              AND f.database_name = current_database()
LEFT JOIN aiduck_duck_types m ON m.duck = aiduck_duck_base(f.return_type)
WHERE f.database_name <> 'temp';

CREATE OR REPLACE TEMP VIEW aiduck_functions AS
SELECT function_oid AS fn_oid_, function_type AS fn_type_, return_type AS fn_return_,
       parameters AS fn_params_, parameter_types AS fn_param_types_
FROM duckdb_functions();
CREATE OR REPLACE TEMP MACRO pg_get_function_result(fn_oid_arg) AS
  (SELECT CASE WHEN fn_type_ IN ('table', 'table_macro') THEN 'TABLE' ELSE aiduck_pg_type_name(fn_return_) END
   FROM aiduck_functions WHERE fn_oid_ = fn_oid_arg LIMIT 1);
CREATE OR REPLACE TEMP MACRO pg_get_function_arguments(fn_oid_arg) AS
  (SELECT array_to_string(list_transform(list_zip(fn_params_, fn_param_types_),
                                         arg_ -> arg_[1] || ' ' || aiduck_pg_type_name(arg_[2])), ', ')
   FROM aiduck_functions WHERE fn_oid_ = fn_oid_arg LIMIT 1);
CREATE OR REPLACE TEMP MACRO pg_get_function_identity_arguments(fn_oid_arg) AS
  (SELECT array_to_string(fn_params_, ', ') FROM aiduck_functions WHERE fn_oid_ = fn_oid_arg LIMIT 1);
CREATE OR REPLACE TEMP MACRO pg_function_is_visible(fn_oid_arg) AS true;
CREATE OR REPLACE TEMP VIEW aiduck_relations AS
SELECT c.oid AS rel_oid_, c.relname AS rel_name_, n.nspname AS rel_schema_
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace;
CREATE OR REPLACE TEMP MACRO pg_table_is_visible(rel_oid_arg) AS
  coalesce((SELECT rel_schema_ = current_schema() OR rel_schema_ LIKE 'pg_temp%'
            FROM aiduck_relations WHERE rel_oid_ = rel_oid_arg), false);
CREATE OR REPLACE TEMP MACRO pg_type_is_visible(type_oid_arg) AS true;
-- A temp macro hides every overload of the built-in of the same name, so each lists them all.
CREATE OR REPLACE TEMP MACRO pg_get_expr(expr_arg, rel_oid_arg) AS expr_arg, (expr_arg, rel_oid_arg, pretty_arg) AS expr_arg;
CREATE OR REPLACE TEMP MACRO pg_get_viewdef(view_oid_arg) AS
  (SELECT "sql" FROM duckdb_views() WHERE view_oid = view_oid_arg),
  (view_oid_arg, pretty_arg) AS (SELECT "sql" FROM duckdb_views() WHERE view_oid = view_oid_arg);
CREATE OR REPLACE TEMP MACRO pg_get_indexdef(index_oid_arg) AS
  (SELECT "sql" FROM duckdb_indexes() WHERE index_oid = index_oid_arg),
  (index_oid_arg, col_arg, pretty_arg) AS (SELECT "sql" FROM duckdb_indexes() WHERE index_oid = index_oid_arg);
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
CREATE OR REPLACE TEMP MACRO quote_ident(s) AS
  CASE WHEN regexp_matches(s, '^[a-z_][a-z0-9_$]*$') THEN s ELSE '"' || replace(s, '"', '""') || '"' END;
-- ::regclass / ::regtype / ::regnamespace in catalog queries become these (src/engine/pg-compat.ts).
CREATE OR REPLACE TEMP MACRO aiduck_ident_last(name_arg) AS
  lower(trim(string_split(replace(name_arg, 'pg_catalog.', ''), '.')[-1], '"'));
CREATE OR REPLACE TEMP MACRO aiduck_ident_first(name_arg) AS lower(trim(string_split(name_arg, '.')[1], '"'));
CREATE OR REPLACE TEMP VIEW aiduck_catalog_relations AS
SELECT * FROM (VALUES (1247, 'pg_type'), (1249, 'pg_attribute'), (1255, 'pg_proc'), (1259, 'pg_class'),
                      (1262, 'pg_database'), (2604, 'pg_attrdef'), (2606, 'pg_constraint'), (2609, 'pg_description'),
                      (2610, 'pg_index'), (2615, 'pg_namespace'), (1260, 'pg_authid'), (3456, 'pg_collation'))
  AS k(cat_oid_, cat_name_);
CREATE OR REPLACE TEMP MACRO aiduck_regclass(name_arg) AS coalesce(
  TRY_CAST(name_arg AS BIGINT),
  (SELECT rel_oid_ FROM aiduck_relations
   WHERE rel_name_ = aiduck_ident_last(name_arg)
     AND (NOT contains(name_arg, '.') OR rel_schema_ = aiduck_ident_first(name_arg))
   ORDER BY (rel_schema_ = current_schema()) DESC LIMIT 1),
  (SELECT cat_oid_ FROM aiduck_catalog_relations WHERE cat_name_ = aiduck_ident_last(name_arg)));
CREATE OR REPLACE TEMP MACRO aiduck_regclass_name(rel_oid_arg) AS
  coalesce((SELECT rel_name_ FROM aiduck_relations WHERE rel_oid_ = rel_oid_arg),
           (SELECT cat_name_ FROM aiduck_catalog_relations WHERE cat_oid_ = rel_oid_arg),
           CAST(rel_oid_arg AS VARCHAR));
CREATE OR REPLACE TEMP VIEW aiduck_types AS
SELECT t.oid AS type_oid_, t.typname AS type_typname_, b.sqlname AS type_name_
FROM pg_type t LEFT JOIN aiduck_pg_builtin_types b ON b.oid = t.oid;
CREATE OR REPLACE TEMP MACRO aiduck_regtype(name_arg) AS
  (SELECT type_oid_ FROM aiduck_types
   WHERE type_typname_ = aiduck_ident_last(name_arg) OR type_name_ = lower(replace(name_arg, 'pg_catalog.', '')) LIMIT 1);
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
CREATE OR REPLACE TEMP MACRO pg_partition_ancestors(rel_oid_arg) AS TABLE SELECT CAST(rel_oid_arg AS BIGINT) AS relid;
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
