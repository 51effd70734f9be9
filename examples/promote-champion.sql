-- Versions and aliases: register two versions, query through the `champion` alias, promote the
-- new version, and roll back, without changing the queries that use the model.
-- Run: psql -h 127.0.0.1 -p 5433 -U aiduck -d aiduck -f examples/promote-champion.sql [-v models=<dir>]
-- Every run registers two new versions and works with the version numbers registration returned,
-- so a re-run (or a run after a failed one) moves the aliases between its own two versions.
\set ON_ERROR_STOP on
\if :{?models}
\else
  \set models testmodels
\endif

SELECT version AS bert_version FROM register_model('doc_embedder', 'file:' || :'models' || '/tiny-bert-embedder', alias => 'champion') \gset
SELECT version AS hash_version FROM register_model('doc_embedder', 'builtin:hash-embed-256', alias => 'challenger',
  tags => MAP {'note': 'lexical baseline'}) \gset
\set bert_ref 'models:/doc_embedder/' :bert_version
SELECT name, version, aliases, source FROM ai.model_versions_with_aliases
WHERE name = 'doc_embedder' AND version IN (:bert_version, :hash_version) ORDER BY version;

-- `doc_embedder` means the champion (the BERT version here); every reference form works.
SELECT 'doc_embedder' AS ref, len(ai_embed('doc_embedder', 'ducks on a lake')) AS dims
UNION ALL SELECT 'doc_embedder@challenger', len(ai_embed('doc_embedder@challenger', 'ducks on a lake'))
UNION ALL SELECT :'bert_ref', len(ai_embed(:'bert_ref', 'ducks on a lake'));

-- Promote the challenger, then roll back to the BERT version.
SELECT * FROM set_model_alias('doc_embedder', 'champion', :hash_version);
SELECT name, latest_version, aliases FROM ai.models WHERE name = 'doc_embedder';
SELECT len(ai_embed('doc_embedder', 'ducks on a lake')) AS dims_after_promotion;
SELECT * FROM set_model_alias('doc_embedder', 'champion', :bert_version);
SELECT name, version, aliases, source FROM ai.model_versions_with_aliases
WHERE name = 'doc_embedder' AND version IN (:bert_version, :hash_version) ORDER BY version;
