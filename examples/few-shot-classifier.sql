-- A few-shot classifier trained and used in SQL: a head fitted on embeddings of a few labelled
-- tickets per team, scored on a held-out share, registered as a model, then used by ai_classify.
-- Run: psql -h 127.0.0.1 -p 5433 -U aiduck -d aiduck -f examples/few-shot-classifier.sql
\set ON_ERROR_STOP on

SELECT name, version FROM register_model('hash', 'builtin:hash-embed-256');

CREATE OR REPLACE TABLE labelled_tickets AS
SELECT body, team FROM (VALUES
  ('the printer on floor 3 is jammed again', 'facilities'), ('the office heating does not work', 'facilities'),
  ('a window in the meeting room is broken', 'facilities'), ('the coffee machine on floor 2 is leaking', 'facilities'),
  ('the elevator is stuck on floor 5', 'facilities'), ('the lights in the kitchen flicker', 'facilities'),
  ('I cannot log in to my email account', 'it'), ('my laptop does not connect to the wifi', 'it'),
  ('please reset my password for the vpn', 'it'), ('the database server is very slow today', 'it'),
  ('my account is locked after a password change', 'it'), ('the vpn client crashes on start', 'it'),
  ('when is my next salary payment', 'hr'), ('how many vacation days do I have left', 'hr'),
  ('I need a copy of my employment contract', 'hr'), ('how do I report a sick day', 'hr'),
  ('my salary slip shows the wrong tax', 'hr'), ('can I move some vacation days to next year', 'hr')
) t(body, team);

SELECT name, version, accuracy, macro_f1, train_rows, test_rows, labels
FROM fit_classifier('ticket_router', 'labelled_tickets', text => 'body', label => 'team',
                    embedding_model => 'hash', test_fraction => 0.34, alias => 'champion');

SELECT body, ai_classify(body, [], model => 'ticket_router') AS team FROM (VALUES
  ('the printer is jammed on floor 1'),
  ('please reset my email password'),
  ('how many vacation days are left this year')
) t(body);
