-- The retriever evaluation of the user's journey (docs/DESIGN.md, step 4), end to end: chunk a document
-- table, embed the chunks with two models, and evaluate both at k = 1, 2, 3 in one query.
-- Models: the generated BERT embedder (`aiduck testmodels`) and the builtin hashing embedding.
-- Run: psql -h 127.0.0.1 -p 5433 -U aiduck -d aiduck -f examples/retriever-evaluation.sql [-v models=<dir>]
\set ON_ERROR_STOP on
\if :{?models}
\else
  \set models testmodels
\endif

SELECT name, version, dimension FROM register_model('bert', 'file:' || :'models' || '/tiny-bert-embedder');
SELECT name, version, dimension FROM register_model('hash', 'builtin:hash-embed-256');

CREATE OR REPLACE TABLE handbook AS SELECT * FROM (VALUES
  ('ducks',    'Ducks swim on lakes and rivers. They eat plants, insects and small fish, and fly south in winter.'),
  ('planner',  'The database query planner chooses join orders and indexes, and estimates the cost of each plan.'),
  ('football', 'A football match lasts ninety minutes. The team that scores more goals wins the match.'),
  ('weather',  'Tomorrow the weather turns cold, with rain in the morning and strong wind in the evening.')
) t(doc_id, body);

-- Chunks of 60 characters overlapping by 20, each with its document id and position.
CREATE OR REPLACE TABLE handbook_chunks AS
SELECT doc_id, position, chunk FROM chunk_text('handbook', id => 'doc_id', text => 'body', size => 60, overlap => 20);

CREATE OR REPLACE TABLE questions AS SELECT * FROM (VALUES
  ('what do ducks eat', ['ducks']),
  ('how does the planner choose join orders', ['planner']),
  ('how long is a football match', ['football']),
  ('will it rain tomorrow', ['weather'])
) t(question, relevant);

-- Both models, k = 1, 2, 3: mean, variance and p90 of each metric, side by side.
SELECT 'bert' AS model, * FROM evaluate_retriever('questions', targets => 'relevant', question => 'question',
    chunks => 'handbook_chunks', chunk_text => 'chunk', model => 'bert', k => [1, 2, 3], aggregate => true)
UNION ALL
SELECT 'hash', * FROM evaluate_retriever('questions', targets => 'relevant', question => 'question',
    chunks => 'handbook_chunks', chunk_text => 'chunk', model => 'hash', k => [1, 2, 3], aggregate => true)
ORDER BY metric, model;

-- One question's retrieved documents and per-row metrics.
SELECT question, retrieved, precision_at_3, recall_at_3, ndcg_at_3
FROM evaluate_retriever('questions', targets => 'relevant', question => 'question', chunks => 'handbook_chunks',
    chunk_text => 'chunk', model => 'hash', k => 3)
ORDER BY question;
