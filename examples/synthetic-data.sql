-- Synthetic data: an LLM behind any OpenAI-compatible endpoint (Ollama, vLLM, LM Studio, OpenAI)
-- answers thousands of questions with structured output, as a typed STRUCT.
-- Run: psql -h 127.0.0.1 -p 5433 -U aiduck -d aiduck -f examples/synthetic-data.sql \
--        -v endpoint=http://127.0.0.1:11434/v1 -v model=llama3.2
-- A hosted endpoint that needs a key: add api_key_env => 'AIDUCK_KEY_OPENAI' to register_model and
-- start aiduck with that variable set (the key is read at call time and never stored).
-- An endpoint that is down, refuses the key or does not know the model fails the statement within
-- seconds (08001, 28000, 42704); a re-run then computes only the rows that have no answer yet.
\set ON_ERROR_STOP on
\if :{?endpoint}
\else
  \set endpoint http://127.0.0.1:11434/v1
\endif
\if :{?model}
\else
  \set model llama3.2
\endif

-- Results are cached by model version: register the endpoint only when the latest version of `llm`
-- is not this endpoint and model already, so that a re-run keeps the version and its cache.
SELECT NOT EXISTS (SELECT 1 FROM ai.models m JOIN ai.model_versions v ON v.name = m.name AND v.version = m.latest_version
                   WHERE m.name = 'llm' AND v.source = 'openai:' || :'endpoint' AND v.endpoint_model = :'model') AS register \gset
\if :register
  SELECT name, version, task FROM register_model('llm', 'openai:' || :'endpoint', endpoint_model => :'model');
\endif

CREATE OR REPLACE TABLE topics AS
SELECT i AS id, (['databases', 'ducks', 'weather', 'football'])[i % 4 + 1] AS topic FROM range(2000) t(i);

CREATE OR REPLACE TABLE synthetic_questions AS
SELECT id, topic,
       ai_query('llm', 'Write one question a user might ask about ' || topic || ' (variant ' || id || ').',
                modelParameters => named_struct('temperature', 0.7, 'max_tokens', 512),
                responseFormat => 'STRUCT<content:STRUCT<content:STRING>>',
                failOnError => false) AS response
FROM topics;

SELECT count(*) AS rows, count(*) FILTER (WHERE response.errorMessage IS NULL) AS answered FROM synthetic_questions;
SELECT id, topic, response.result.content.content AS question FROM synthetic_questions ORDER BY id LIMIT 5;
