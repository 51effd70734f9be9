-- aiduck quickstart: run with `psql -h 127.0.0.1 -p 5433 -U aiduck -f examples/quickstart.sql`
-- (or `node bin/aiduck.js sql < examples/quickstart.sql`) against a server started by `npm start`.

CREATE OR REPLACE TABLE tickets AS
SELECT
  i AS id,
  ['billing', 'login', 'shipping', 'refund'][1 + i % 4] AS topic,
  'Ticket ' || i || ': customer writes about ' || ['billing', 'login', 'shipping', 'refund'][1 + i % 4] AS body,
  TIMESTAMP '2024-01-01' + INTERVAL (i) MINUTE AS opened_at
FROM range(10000) r(i);

-- Analytics over the table, as any Postgres client sees them.
SELECT topic, count(*) AS tickets, min(opened_at) AS first, max(opened_at) AS last
FROM tickets GROUP BY topic ORDER BY topic;

-- Lists and structs come back as Postgres arrays and json.
SELECT topic, list(id ORDER BY id)[1:3] AS first_ids, {'n': count(*), 'avg_len': avg(length(body))::INTEGER} AS stats
FROM tickets GROUP BY topic ORDER BY topic;

-- Write a result where SQL may write files (the data directory's files/ folder) with psql:
--   \copy (SELECT * FROM tickets WHERE topic = 'refund') TO 'refunds.csv' WITH (FORMAT csv, HEADER)
