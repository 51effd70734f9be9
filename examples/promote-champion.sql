-- Versions and aliases: register two versions, query through the `champion` alias, promote the
-- new version, and roll back, without changing the queries that use the model.
-- Run: psql -h 127.0.0.1 -p 5433 -U aiduck -f examples/promote-champion.sql [-v models=<dir>]
\if :{?models}
\else
  \set models testmodels
\endif

SELECT name, version, aliases FROM register_model('doc_embedder', 'file:' || :'models' || '/tiny-bert-embedder', alias => 'champion');
SELECT name, version, aliases FROM register_model('doc_embedder', 'builtin:hash-embed-256', alias => 'challenger',
  tags => MAP {'note': 'lexical baseline'});

-- `doc_embedder` means the champion (version 1 here); every reference form works.
SELECT 'doc_embedder' AS ref, len(ai_embed('doc_embedder', 'ducks on a lake')) AS dims
UNION ALL SELECT 'doc_embedder@challenger', len(ai_embed('doc_embedder@challenger', 'ducks on a lake'))
UNION ALL SELECT 'models:/doc_embedder/1', len(ai_embed('models:/doc_embedder/1', 'ducks on a lake'));

-- Promote version 2, then roll back to version 1.
SELECT * FROM set_model_alias('doc_embedder', 'champion', 2);
SELECT name, latest_version, aliases FROM ai.models WHERE name = 'doc_embedder';
SELECT len(ai_embed('doc_embedder', 'ducks on a lake')) AS dims_after_promotion;
SELECT * FROM set_model_alias('doc_embedder', 'champion', 1);
SELECT name, version, aliases, source FROM ai.model_versions_with_aliases WHERE name = 'doc_embedder' ORDER BY version;
