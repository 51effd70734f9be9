-- A summarizer run as a batch job into a new table. Re-running it is served from the result
-- cache; a job that was cancelled or crashed recomputes only the rows it had not finished.
-- Run: psql -h 127.0.0.1 -p 5433 -U aiduck -d aiduck -f examples/batch-summarization.sql [-v models=<dir>]
-- (models: a folder under <data>/files holding the test models; `aiduck init` writes them to testmodels)
\set ON_ERROR_STOP on
\if :{?models}
\else
  \set models testmodels
\endif

-- Results are cached by model version: register the summarizer only when its latest version is
-- not this folder already, so that a re-run (after a failure too) keeps the version and its cache.
SELECT NOT EXISTS (SELECT 1 FROM ai.models m JOIN ai.model_versions v ON v.name = m.name AND v.version = m.latest_version
                   WHERE m.name = 'summarizer' AND v.source = 'file:' || :'models' || '/tiny-t5-summarizer') AS register \gset
\if :register
  SELECT name, version, task FROM register_model('summarizer', 'file:' || :'models' || '/tiny-t5-summarizer', task => 'summarization');
\endif

CREATE OR REPLACE TABLE articles AS
SELECT i AS id,
       'report ' || i || ': the city council met on monday to discuss the new park, the budget for the river '
       || 'bridge and a plan for more buses in the north of the city' AS body
FROM range(200) t(i);

CREATE OR REPLACE TABLE batch_inference AS
SELECT id, body, ai_query('summarizer', body, modelParameters => named_struct('max_tokens', 24)) AS summary
FROM articles;

SELECT count(*) AS summarized, count(DISTINCT summary) AS distinct_summaries FROM batch_inference;
SELECT id, summary FROM batch_inference ORDER BY id LIMIT 3;

-- While a long job runs, another session can watch it:
SELECT * FROM ai.running_jobs;
