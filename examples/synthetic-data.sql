-- Synthetic data: an LLM behind any OpenAI-compatible endpoint (Ollama, vLLM, LM Studio, OpenAI)
-- answers thousands of questions with structured output, as a typed STRUCT.
-- Run: psql ... -v endpoint=http://127.0.0.1:11434/v1 -v model=llama3.2 -f examples/synthetic-data.sql
-- A hosted endpoint that needs a key: add api_key_env => 'OPENAI_API_KEY' to register_model and set
-- that variable in the server's environment (the key is read at call time and never stored).
\if :{?endpoint}
\else
  \set endpoint http://127.0.0.1:11434/v1
\endif
\if :{?model}
\else
  \set model llama3.2
\endif

SELECT name, version, task FROM register_model('llm', 'openai:' || :'endpoint', endpoint_model => :'model');

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
