-- An experiment in SQL (docs/DESIGN.md, steps 4, 6 and 7): evaluate two embedding models at three k,
-- record each evaluation as a run of the experiment 'handbook-rag', pick the best run by NDCG@3 and
-- promote its model to champion. Re-running adds runs and promotes the best again.
-- Models: the generated BERT embedder (`aiduck init` or `aiduck testmodels`) and the builtin hashing embedding.
-- Run: psql -h 127.0.0.1 -p 5433 -U aiduck -d aiduck -f examples/rag-experiment.sql [-v models=<dir>]
\set ON_ERROR_STOP on
\if :{?models}
\else
  \set models testmodels
\endif

-- Both embedders as versions of one model, so the winner becomes its champion.
SELECT version AS bert_version FROM register_model('handbook_embedder', 'file:' || :'models' || '/tiny-bert-embedder') \gset
SELECT version AS hash_version FROM register_model('handbook_embedder', 'builtin:hash-embed-256') \gset

CREATE OR REPLACE TABLE handbook AS SELECT * FROM (VALUES
  ('ducks',    'Ducks swim on lakes and rivers. They eat plants, insects and small fish, and fly south in winter.'),
  ('planner',  'The database query planner chooses join orders and indexes, and estimates the cost of each plan.'),
  ('football', 'A football match lasts ninety minutes. The team that scores more goals wins the match.'),
  ('weather',  'Tomorrow the weather turns cold, with rain in the morning and strong wind in the evening.')
) t(doc_id, body);
CREATE OR REPLACE TABLE handbook_chunks AS
SELECT doc_id, position, chunk FROM chunk_text('handbook', id => 'doc_id', text => 'body', size => 60, overlap => 20);
CREATE OR REPLACE TABLE handbook_questions AS SELECT * FROM (VALUES
  ('what do ducks eat', ['ducks']),
  ('how does the planner choose join orders', ['planner']),
  ('how long is a football match', ['football']),
  ('will it rain tomorrow', ['weather'])
) t(question, relevant);

-- One run per embedder, each with precision, recall and NDCG at k = 1, 2, 3.
SELECT metric, round(mean, 3) AS mean FROM evaluate_retriever('handbook_questions', targets => 'relevant', question => 'question',
    chunks => 'handbook_chunks', chunk_text => 'chunk', model => 'handbook_embedder/' || :bert_version, k => [1, 2, 3],
    aggregate => true, experiment => 'handbook-rag', run_name => 'bert');
SELECT metric, round(mean, 3) AS mean FROM evaluate_retriever('handbook_questions', targets => 'relevant', question => 'question',
    chunks => 'handbook_chunks', chunk_text => 'chunk', model => 'handbook_embedder/' || :hash_version, k => [1, 2, 3],
    aggregate => true, experiment => 'handbook-rag', run_name => 'hash');

-- The runs side by side, best first.
SELECT name, params['model'] AS model, round(metrics['ndcg_at_3'], 3) AS ndcg_at_3, round(metrics['recall_at_1'], 3) AS recall_at_1
FROM ai.runs WHERE experiment = 'handbook-rag' ORDER BY metrics['ndcg_at_3'] DESC, start_time DESC;

-- The best run's model becomes the champion (ties go to the most recent run).
SELECT CAST(split_part(params['model'], '/', 2) AS INTEGER) AS best_version
FROM ai.runs WHERE experiment = 'handbook-rag' ORDER BY metrics['ndcg_at_3'] DESC, start_time DESC LIMIT 1 \gset
SELECT name, alias, version FROM set_model_alias('handbook_embedder', 'champion', :best_version);
SELECT name, aliases['champion'] AS champion FROM ai.models WHERE name = 'handbook_embedder';
