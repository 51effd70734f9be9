-- aiduck quickstart: run with `psql -h 127.0.0.1 -p 5433 -U aiduck -d aiduck -f examples/quickstart.sql`
-- (or `node bin/aiduck.js sql -f examples/quickstart.sql`) against a server started by `npm start`,
-- after `node bin/aiduck.js init` wrote the sample data.

-- The sample reviews, read in place: data_file() gives a file's absolute path under <data>/files.
CREATE OR REPLACE TABLE reviews AS SELECT * FROM read_csv(data_file('samples/reviews.csv'));
SELECT stars, count(*) AS reviews, round(avg(length(body))) AS avg_length FROM reviews GROUP BY stars ORDER BY stars;
-- The same data as Parquet, queried where it lies without loading it.
SELECT product, count(*) AS reviews, round(avg(stars), 2) AS avg_stars
FROM read_parquet(data_file('samples/reviews.parquet')) GROUP BY product ORDER BY avg_stars DESC, product LIMIT 3;

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

-- Write a result on the server, under <data>/files (where SQL may write files):
COPY (SELECT * FROM tickets WHERE topic = 'refund') TO (data_file('refunds.csv')) (FORMAT csv, HEADER);
SELECT count(*) AS refunds_written FROM read_csv(data_file('refunds.csv'));
-- or on the client, with psql:
--   \copy (SELECT * FROM tickets WHERE topic = 'refund') TO 'refunds.csv' WITH (FORMAT csv, HEADER)
