-- The model registry and the experiment runs: run when the engine opens the database. Users read these
-- tables and views; only the registry commands write them (a session's own INSERT, UPDATE, DELETE,
-- ALTER or DROP of them is refused with 42501).
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
  training_run VARCHAR,            -- the run (ai.runs) that made this version, if any
  dimension INTEGER,               -- embedding models: the vector length
  options MAP(VARCHAR, VARCHAR),   -- provider options: max_concurrency, timeout_ms, max_retries
  created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
  PRIMARY KEY (name, version)
);
ALTER TABLE ai.model_versions ADD COLUMN IF NOT EXISTS options MAP(VARCHAR, VARCHAR);
-- A LoRA adapter version runs on top of this version (its URI, models:/name/version).
ALTER TABLE ai.model_versions ADD COLUMN IF NOT EXISTS base_model VARCHAR;
-- Embedding models from a folder: how ai_embed makes one vector of a text, as the folder's
-- sentence-transformers modules say (mode: cls, max, mean, mean_sqrt_len_tokens, weightedmean, lasttoken,
-- several joined by +, concatenated in that order); NULL for versions registered before it was recorded
-- (mean-pooled and normalised).
ALTER TABLE ai.model_versions ADD COLUMN IF NOT EXISTS pooling STRUCT(mode VARCHAR, normalize BOOLEAN, include_prompt BOOLEAN, prompt VARCHAR, max_seq_length INTEGER, lowercase BOOLEAN);
CREATE TABLE IF NOT EXISTS ai.model_aliases (
  name VARCHAR NOT NULL,
  alias VARCHAR NOT NULL,
  version INTEGER NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
  PRIMARY KEY (name, alias)
);
-- Model-level tags and description (a version's are in ai.model_versions).
CREATE TABLE IF NOT EXISTS ai.model_tags (
  name VARCHAR NOT NULL,
  key VARCHAR NOT NULL,
  value VARCHAR,
  PRIMARY KEY (name, key)
);
CREATE TABLE IF NOT EXISTS ai.model_descriptions (
  name VARCHAR PRIMARY KEY,
  description VARCHAR
);
-- Experiment tracking, MLflow's model in tables: experiments, their runs, each run's parameters and
-- metrics (a metric has a value per step, so a run has curves). A run is inserted as 'running' and
-- ends as 'finished', 'failed' or 'cancelled'; one still 'running' when the engine starts was cut
-- short by a crash and is marked 'failed'.
CREATE TABLE IF NOT EXISTS ai.experiments (
  name VARCHAR PRIMARY KEY,
  created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS ai.run_records (
  run_id VARCHAR PRIMARY KEY,
  experiment VARCHAR NOT NULL,
  name VARCHAR,
  source VARCHAR NOT NULL,         -- what ran it: train_lora, fit_classifier, evaluate_retriever, log_run
  status VARCHAR NOT NULL,         -- running | finished | failed | cancelled
  start_time TIMESTAMPTZ NOT NULL,
  end_time TIMESTAMPTZ,
  statement VARCHAR,               -- the statement that ran it
  model_name VARCHAR,              -- the model version it produced, if any
  model_version INTEGER,
  artifact VARCHAR,                -- that version's files in the artifact store (kept while the run is)
  error VARCHAR                    -- why a failed or cancelled run stopped
);
CREATE TABLE IF NOT EXISTS ai.run_params (
  run_id VARCHAR NOT NULL,
  key VARCHAR NOT NULL,
  value VARCHAR,
  PRIMARY KEY (run_id, key)
);
CREATE TABLE IF NOT EXISTS ai.run_metrics (
  run_id VARCHAR NOT NULL,
  key VARCHAR NOT NULL,
  value DOUBLE NOT NULL,
  step BIGINT NOT NULL,
  timestamp TIMESTAMPTZ NOT NULL
);
