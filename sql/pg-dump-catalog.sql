-- The rest of the Postgres catalog pg_dump 15 reads (loaded with sql/pg-catalog.sql). Catalogs of
-- features DuckDB does not have are empty; each view has the columns pg_dump selects, and
-- `tableoid`, the OID of the catalog itself, by which pg_dump tells objects apart.

-- No object has an ACL (relacl etc. are NULL, so pg_dump dumps no GRANT or REVOKE).
CREATE OR REPLACE TEMP MACRO acldefault(kind_arg, owner_arg) AS CAST(NULL AS VARCHAR);
CREATE OR REPLACE TEMP MACRO pg_encoding_to_char(encoding_arg) AS CASE WHEN encoding_arg = 6 THEN 'UTF8' ELSE '' END;
CREATE OR REPLACE TEMP MACRO quote_literal(s_arg) AS '''' || replace(CAST(s_arg AS VARCHAR), '''', '''''') || '''';
-- set_config inside a query (pg_dump's `SELECT set_config(name, ...) FROM pg_settings WHERE name = ...`
-- over a setting aiduck does not have); a whole `SELECT set_config('name', 'value', false)` is
-- answered by the session (src/pg/dump-statements.ts), which applies it.
CREATE OR REPLACE TEMP MACRO set_config(name_arg, value_arg, is_local_arg) AS
  error('[SQLSTATE 0A000] set_config can only be called alone: SELECT set_config(''name'', ''value'', false)'
        || chr(10) || 'HINT: or use SET name = value');
CREATE OR REPLACE TEMP MACRO pg_options_to_table(options_arg) AS TABLE
  SELECT split_part(o_, '=', 1) AS option_name, substr(o_, strpos(o_, '=') + 1) AS option_value
  FROM (SELECT unnest(options_arg) AS o_);

-- aiduck's own objects belong to the built-in extension `aiduck`: the registry schema `ai` and what is
-- in it, and DuckDB's schema `main` with the SQL functions aiduck defines there. As for Postgres'
-- built-in extensions (an OID below 16384), pg_dump dumps neither the extension nor its members: a
-- dump holds the user's objects, and a restore into aiduck finds aiduck's own already there.
CREATE OR REPLACE TEMP VIEW pg_extension AS
SELECT 16000 AS oid, 'aiduck' AS extname, 10 AS extowner,
       coalesce((SELECT CAST(oid AS INTEGER) FROM duckdb_schemas() WHERE database_name = current_database() AND schema_name = 'ai'),
                CAST(aiduck_pg_catalog_oid() AS INTEGER)) AS extnamespace,
       false AS extrelocatable, '1.0' AS extversion, CAST(NULL AS INTEGER[]) AS extconfig,
       CAST(NULL AS VARCHAR[]) AS extcondition, 3079 AS tableoid;

-- Dependencies: aiduck's objects on the extension ('e'); a view on the relations its SQL names and
-- a column default (pg_attrdef) on the sequence it draws from ('n'), so that pg_dump creates them
-- first; a serial column's sequence on its column ('a'), which pg_dump turns into OWNED BY. A view
-- depends only on views made before it, so a name that merely appears in its text makes no cycle.
CREATE OR REPLACE TEMP VIEW aiduck_dump_relations AS
SELECT CAST(table_oid AS INTEGER) AS dr_oid_, schema_name AS dr_schema_, table_name AS dr_name_, 'r' AS dr_kind_, CAST(NULL AS VARCHAR) AS dr_sql_
FROM duckdb_tables() WHERE database_name = current_database()
UNION ALL
SELECT CAST(view_oid AS INTEGER), schema_name, view_name, 'v', "sql" FROM duckdb_views() WHERE NOT internal AND database_name = current_database()
UNION ALL
SELECT CAST(sequence_oid AS INTEGER), schema_name, sequence_name, 'S', NULL FROM duckdb_sequences() WHERE database_name = current_database();
-- The column a serial or identity column's sequence belongs to (its comment `owned by schema.table.column`).
CREATE OR REPLACE TEMP VIEW aiduck_owned_sequences AS
SELECT CAST(s.sequence_oid AS INTEGER) AS os_seq_, CAST(c.table_oid AS INTEGER) AS os_table_, c.column_index AS os_column_
FROM duckdb_sequences() s JOIN duckdb_columns() c
  ON s.database_name = c.database_name AND starts_with(s.comment, 'owned by ')
     AND s.comment = 'owned by ' || c.schema_name || '.' || c.table_name || '.' || c.column_name
WHERE s.database_name = current_database();
CREATE OR REPLACE TEMP VIEW pg_depend AS
SELECT 2615 AS classid, CAST(oid AS INTEGER) AS objid, 0 AS objsubid, 3079 AS refclassid, 16000 AS refobjid,
       0 AS refobjsubid, 'e' AS deptype
FROM duckdb_schemas() WHERE database_name = current_database() AND schema_name IN ('ai', 'main')
UNION ALL
SELECT 1259, dr_oid_, 0, 3079, 16000, 0, 'e' FROM aiduck_dump_relations WHERE dr_schema_ = 'ai'
UNION ALL
SELECT 1255, CAST(function_oid AS INTEGER), 0, 3079, 16000, 0, 'e'
FROM duckdb_functions() WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
UNION ALL
SELECT 1247, CAST(type_oid AS INTEGER), 0, 3079, 16000, 0, 'e'
FROM duckdb_types() WHERE database_name = current_database() AND schema_name IN ('ai', 'main') AND NOT internal
UNION ALL
SELECT 1259, v.dr_oid_, 0, 1259, r.dr_oid_, 0, 'n'
FROM aiduck_dump_relations v JOIN aiduck_dump_relations r
  ON v.dr_kind_ = 'v' AND (r.dr_kind_ <> 'v' OR r.dr_oid_ < v.dr_oid_) AND contains(lower(v.dr_sql_), lower(r.dr_name_))
UNION ALL
SELECT 1259, os_seq_, 0, 1259, os_table_, os_column_, 'a' FROM aiduck_owned_sequences
UNION ALL
SELECT DISTINCT 2604, CAST(c.table_oid * 10000 + c.column_index AS INTEGER), 0, 1259, s.dr_oid_, 0, 'n'
FROM duckdb_columns() c JOIN aiduck_dump_relations s
  ON s.dr_kind_ = 'S' AND c.database_name = current_database()
     AND lower(regexp_extract(c.column_default, '^nextval\(''(?:[^'']*\.)?"?([^''".]+)"?''\)$', 1)) = lower(s.dr_name_);

CREATE OR REPLACE TEMP VIEW pg_sequence AS
SELECT CAST(sequence_oid AS INTEGER) AS seqrelid, 20 AS seqtypid, start_value AS seqstart, increment_by AS seqincrement,
       max_value AS seqmax, min_value AS seqmin, 1 AS seqcache, "cycle" AS seqcycle, 2224 AS tableoid
FROM duckdb_sequences() WHERE database_name = current_database() OR database_name = 'temp';

CREATE OR REPLACE TEMP VIEW pg_tablespace AS
SELECT *, CAST(NULL AS VARCHAR[]) AS spcacl, CAST(NULL AS VARCHAR[]) AS spcoptions, 1213 AS tableoid
FROM (VALUES (1663, 'pg_default', 10), (1664, 'pg_global', 10)) AS t(oid, spcname, spcowner);
CREATE OR REPLACE TEMP VIEW pg_collation AS
SELECT *, CAST(aiduck_pg_catalog_oid() AS INTEGER) AS collnamespace, 10 AS collowner, -1 AS collencoding,
       'c' AS collprovider, true AS collisdeterministic, 'C' AS collcollate, 'C' AS collctype, 3456 AS tableoid
FROM (VALUES (100, 'default'), (950, 'C'), (951, 'POSIX')) AS t(oid, collname);

-- Empty: DuckDB has none of these.
CREATE OR REPLACE TEMP VIEW pg_init_privs AS
SELECT 0 AS objoid, 0 AS classoid, 0 AS objsubid, '' AS privtype, CAST(NULL AS VARCHAR[]) AS initprivs WHERE false;
CREATE OR REPLACE TEMP VIEW pg_operator AS
SELECT 0 AS oid, '' AS oprname, 0 AS oprnamespace, 10 AS oprowner, '' AS oprkind, 0 AS oprleft, 0 AS oprright,
       0 AS oprresult, 0 AS oprcode, 2617 AS tableoid WHERE false;
CREATE OR REPLACE TEMP VIEW pg_opfamily AS
SELECT 0 AS oid, 0 AS opfmethod, '' AS opfname, 0 AS opfnamespace, 10 AS opfowner, 2753 AS tableoid WHERE false;
CREATE OR REPLACE TEMP VIEW pg_amop AS
SELECT 0 AS oid, 0 AS amopfamily, 0 AS amoplefttype, 0 AS amoprighttype, 0 AS amopopr, 2602 AS tableoid WHERE false;
CREATE OR REPLACE TEMP VIEW pg_amproc AS
SELECT 0 AS oid, 0 AS amprocfamily, 0 AS amproclefttype, 0 AS amprocrighttype, 0 AS amproc, 2603 AS tableoid WHERE false;
CREATE OR REPLACE TEMP VIEW pg_ts_parser AS
SELECT 0 AS oid, '' AS prsname, 0 AS prsnamespace, 0 AS prsstart, 0 AS prstoken, 0 AS prsend, 0 AS prsheadline,
       0 AS prslextype, 3601 AS tableoid WHERE false;
CREATE OR REPLACE TEMP VIEW pg_ts_template AS
SELECT 0 AS oid, '' AS tmplname, 0 AS tmplnamespace, 0 AS tmplinit, 0 AS tmpllexize, 3764 AS tableoid WHERE false;
CREATE OR REPLACE TEMP VIEW pg_ts_dict AS
SELECT 0 AS oid, '' AS dictname, 0 AS dictnamespace, 10 AS dictowner, 0 AS dicttemplate, '' AS dictinitoption,
       3600 AS tableoid WHERE false;
CREATE OR REPLACE TEMP VIEW pg_ts_config AS
SELECT 0 AS oid, '' AS cfgname, 0 AS cfgnamespace, 10 AS cfgowner, 0 AS cfgparser, 3602 AS tableoid WHERE false;
CREATE OR REPLACE TEMP VIEW pg_foreign_data_wrapper AS
SELECT 0 AS oid, '' AS fdwname, 10 AS fdwowner, 0 AS fdwhandler, 0 AS fdwvalidator, CAST(NULL AS VARCHAR[]) AS fdwacl,
       CAST(NULL AS VARCHAR[]) AS fdwoptions, 2328 AS tableoid WHERE false;
CREATE OR REPLACE TEMP VIEW pg_foreign_server AS
SELECT 0 AS oid, '' AS srvname, 10 AS srvowner, 0 AS srvfdw, '' AS srvtype, '' AS srvversion,
       CAST(NULL AS VARCHAR[]) AS srvacl, CAST(NULL AS VARCHAR[]) AS srvoptions, 1417 AS tableoid WHERE false;
CREATE OR REPLACE TEMP VIEW pg_default_acl AS
SELECT 0 AS oid, 0 AS defaclrole, 0 AS defaclnamespace, '' AS defaclobjtype, CAST(NULL AS VARCHAR[]) AS defaclacl,
       826 AS tableoid WHERE false;
CREATE OR REPLACE TEMP VIEW pg_conversion AS
SELECT 0 AS oid, '' AS conname, 0 AS connamespace, 10 AS conowner, 2607 AS tableoid WHERE false;
CREATE OR REPLACE TEMP VIEW pg_cast AS
SELECT 0 AS oid, 0 AS castsource, 0 AS casttarget, 0 AS castfunc, '' AS castcontext, '' AS castmethod,
       2605 AS tableoid WHERE false;
CREATE OR REPLACE TEMP VIEW pg_range AS SELECT 0 AS rngtypid, 0 AS rngsubtype, 0 AS rngmultitypid WHERE false;
CREATE OR REPLACE TEMP VIEW pg_transform AS
SELECT 0 AS oid, 0 AS trftype, 0 AS trflang, 0 AS trffromsql, 0 AS trftosql, 3576 AS tableoid WHERE false;
CREATE OR REPLACE TEMP VIEW pg_event_trigger AS
SELECT 0 AS oid, '' AS evtname, '' AS evtevent, 10 AS evtowner, 0 AS evtfoid, '' AS evtenabled,
       CAST(NULL AS VARCHAR[]) AS evttags, 3466 AS tableoid WHERE false;
CREATE OR REPLACE TEMP VIEW pg_subscription AS
SELECT 0 AS oid, 0 AS subdbid, '' AS subname, 10 AS subowner, false AS subenabled, false AS subbinary,
       '' AS substream, '' AS subtwophasestate, false AS subdisableonerr, '' AS subconninfo, '' AS subslotname,
       '' AS subsynccommit, CAST(NULL AS VARCHAR[]) AS subpublications, 6100 AS tableoid WHERE false;
CREATE OR REPLACE TEMP VIEW pg_largeobject_metadata AS
SELECT 0 AS oid, 10 AS lomowner, CAST(NULL AS VARCHAR[]) AS lomacl, 2995 AS tableoid WHERE false;
CREATE OR REPLACE TEMP VIEW pg_seclabels AS
SELECT 0 AS objoid, 0 AS classoid, 0 AS objsubid, '' AS objtype, 0 AS objnamespace, '' AS objname, '' AS provider,
       '' AS label WHERE false;
CREATE OR REPLACE TEMP VIEW pg_shseclabel AS
SELECT 0 AS objoid, 0 AS classoid, '' AS provider, '' AS label WHERE false;
CREATE OR REPLACE TEMP VIEW pg_db_role_setting AS
SELECT 0 AS setdatabase, 0 AS setrole, CAST(NULL AS VARCHAR[]) AS setconfig WHERE false;
CREATE OR REPLACE TEMP MACRO array_remove(arr_arg, elem_arg) AS list_filter(arr_arg, e_ -> e_ IS DISTINCT FROM elem_arg);
