-- Run on every new session's DuckDB connection: Postgres functions that clients call on connect
-- and that DuckDB's pg_catalog lacks or answers differently. Temporary macros shadow built-ins
-- for this connection only.
-- DuckDB runs a streaming query ahead of its reader until its buffer holds this much (it counts rows
-- there, so the default of about a million lets a large-row result be computed gigabytes ahead of a
-- slow client): keep about one chunk in hand.
SET streaming_buffer_size = '2KB';
CREATE OR REPLACE TEMP MACRO version() AS 'PostgreSQL 15.0 (aiduck ' || getvariable('aiduck_version') || ', DuckDB ' || getvariable('aiduck_duckdb_version') || ') on x86_64-pc-linux-gnu, compiled by aiduck, 64-bit';
CREATE OR REPLACE TEMP MACRO pg_get_userbyid(id) AS coalesce(getvariable('aiduck_user'), 'aiduck');
-- The login user (DuckDB's own answer is 'duckdb'); `user` is current_user in both.
CREATE OR REPLACE TEMP MACRO current_user() AS getvariable('aiduck_login_user');
CREATE OR REPLACE TEMP MACRO session_user() AS getvariable('aiduck_login_user');
CREATE OR REPLACE TEMP MACRO pg_encoding_to_char(id) AS 'UTF8';
CREATE OR REPLACE TEMP MACRO pg_backend_pid() AS getvariable('aiduck_backend_pid');
CREATE OR REPLACE TEMP MACRO pg_postmaster_start_time() AS getvariable('aiduck_started_at')::TIMESTAMPTZ;
CREATE OR REPLACE TEMP MACRO inet_server_addr() AS NULL;
-- The absolute path of a file under <data>/files, where SQL may read and write: read_csv(data_file('samples/reviews.csv')).
CREATE OR REPLACE TEMP MACRO data_file(path) AS getvariable('aiduck_files_dir') || '/' || path;
CREATE OR REPLACE TEMP MACRO inet_server_port() AS NULL;
