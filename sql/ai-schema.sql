-- The model registry: run once when the engine opens the database. Users read these tables;
-- register_model, set_model_alias and delete_model_alias write them.
CREATE SCHEMA IF NOT EXISTS ai;
CREATE TABLE IF NOT EXISTS ai.model_versions (
  name VARCHAR NOT NULL,
  version INTEGER NOT NULL,
  uri VARCHAR NOT NULL,            -- models:/name/version
  task VARCHAR NOT NULL,
  provider VARCHAR NOT NULL,       -- onnx | openai | builtin
  source VARCHAR NOT NULL,         -- as given to register_model
  location VARCHAR NOT NULL,       -- artifact folder, endpoint base URL or builtin name
  artifact_digest VARCHAR,         -- content address of the artifact folder, if any
  endpoint_model VARCHAR,
  api_key_env VARCHAR,             -- the variable's name only; the key is read at call time
  description VARCHAR,
  tags MAP(VARCHAR, VARCHAR),
  training_run VARCHAR,            -- set by train_lora
  dimension INTEGER,               -- embedding models: the vector length
  options MAP(VARCHAR, VARCHAR),   -- provider options: max_concurrency, timeout_ms, max_retries
  created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
  PRIMARY KEY (name, version)
);
ALTER TABLE ai.model_versions ADD COLUMN IF NOT EXISTS options MAP(VARCHAR, VARCHAR);
CREATE TABLE IF NOT EXISTS ai.model_aliases (
  name VARCHAR NOT NULL,
  alias VARCHAR NOT NULL,
  version INTEGER NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
  PRIMARY KEY (name, alias)
);
CREATE OR REPLACE VIEW ai.models AS
  SELECT v.name,
         max(v.version) AS latest_version,
         count(*) AS versions,
         (SELECT map_from_entries(list((a.alias, a.version) ORDER BY a.alias)) FROM ai.model_aliases a WHERE a.name = v.name) AS aliases,
         arg_max(v.task, v.version) AS task,
         arg_max(v.provider, v.version) AS provider,
         min(v.created_at) AS created_at
  FROM ai.model_versions v GROUP BY v.name;
CREATE OR REPLACE VIEW ai.model_versions_with_aliases AS
  SELECT v.*, (SELECT list(a.alias ORDER BY a.alias) FROM ai.model_aliases a WHERE a.name = v.name AND a.version = v.version) AS aliases
  FROM ai.model_versions v;
