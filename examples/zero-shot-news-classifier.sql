-- A zero-shot news classifier: an NLI model scores each headline against each label.
-- Models: `aiduck testmodels` writes small generated ones to aiduck-data/files/testmodels;
-- any Hugging Face NLI model exported to ONNX (e.g. an MNLI cross-encoder) works the same way.
-- Run: psql -h 127.0.0.1 -p 5433 -U aiduck -d aiduck -f examples/zero-shot-news-classifier.sql [-v models=<dir>]
\set ON_ERROR_STOP on
\if :{?models}
\else
  \set models testmodels
\endif

SELECT name, version, task FROM register_model('news_classifier', 'file:' || :'models' || '/tiny-nli-classifier',
  description => 'zero-shot topics for headlines', alias => 'champion');

CREATE OR REPLACE TABLE headlines AS SELECT * FROM (VALUES
  (1, 'the team won the football match in the final minute'),
  (2, 'a song by the band tops the music charts'),
  (3, 'scientists test a faster computer chip and its software'),
  (4, 'storm warning: the weather service reports heavy rain tonight')
) t(id, headline);

-- The labels of the seed query, quoting unchanged.
SELECT id, headline,
       ai_classify(headline, ['sports', 'pop culture', 'breaking news', 'science and technology'], model => 'news_classifier') AS topic
FROM headlines ORDER BY id;

-- All labels with their scores, and several labels per text.
SELECT id, ai_classify_scores(headline, ['sports', 'pop culture', 'breaking news', 'science and technology'],
                              model => 'news_classifier', multi_label => true) AS scores
FROM headlines ORDER BY id;
