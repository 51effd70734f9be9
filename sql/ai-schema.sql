-- The model registry: run once when the engine opens the database. Users read these tables;
-- register_model, set_model_alias and delete_model_alias write them.
CREATE SCHEMA IF NOT EXISTS ai;
CREATE TABLE IF NOT EXISTS ai.model_versions (
  name VARCHAR NOT NULL,
  version INTEGER NOT NULL,
  uri VARCHAR NOT NULL,            -- models:/name/version
  task VARCHAR NOT NULL,
  provider VARCHAR NOT NULL,       -- onnx | openai | builtin | fewshot | llama | lora
  source VARCHAR NOT NULL,         -- as given to register_model
  location VARCHAR NOT NULL,       -- artifact folder, endpoint base URL or builtin name
  artifact_digest VARCHAR,         -- content address of the artifact folder, if any
  endpoint_model VARCHAR,
  api_key_env VARCHAR,             -- the variable's name only; the key is read at call time
  description VARCHAR,
  tags MAP(VARCHAR, VARCHAR),
  training_run VARCHAR,            -- set by train_lora: the run in ai.training_runs
  dimension INTEGER,               -- embedding models: the vector length
  options MAP(VARCHAR, VARCHAR),   -- provider options: max_concurrency, timeout_ms, max_retries
  created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
  PRIMARY KEY (name, version)
);
ALTER TABLE ai.model_versions ADD COLUMN IF NOT EXISTS options MAP(VARCHAR, VARCHAR);
-- A LoRA adapter version runs on top of this version (its URI, models:/name/version).
ALTER TABLE ai.model_versions ADD COLUMN IF NOT EXISTS base_model VARCHAR;
-- One row per finished train_lora run: its lineage and metrics. A cancelled or failed run leaves nothing.
CREATE TABLE IF NOT EXISTS ai.training_runs (
  run_id VARCHAR PRIMARY KEY,
  name VARCHAR NOT NULL,
  version INTEGER NOT NULL,
  base_model VARCHAR NOT NULL,     -- models:/name/version of the base
  training_data VARCHAR NOT NULL,  -- the table or query as given
  training_rows INTEGER NOT NULL,
  eval_data VARCHAR,
  eval_rows INTEGER,
  data_digest VARCHAR NOT NULL,    -- sha256 of the tokenized training examples
  parameters JSON NOT NULL,        -- every train_lora parameter, defaults filled in
  epochs JSON NOT NULL,            -- the per-epoch metrics rows
  train_loss DOUBLE,
  eval_loss DOUBLE,
  trainable_params BIGINT NOT NULL,
  total_params BIGINT NOT NULL,
  started_at TIMESTAMPTZ NOT NULL,
  finished_at TIMESTAMPTZ NOT NULL
);
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
