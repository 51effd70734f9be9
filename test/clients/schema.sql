-- The schema and data every client test loads into aiduck and into the reference PostgreSQL 15
-- (test/clients/servers.ts): what tools reflect. Plain Postgres SQL that both accept.
CREATE SCHEMA shop;
CREATE TABLE shop.customers (
  id integer PRIMARY KEY,
  email character varying(255) NOT NULL,
  name text,
  balance numeric(18,4),
  active boolean DEFAULT true,
  created_at timestamp with time zone,
  avatar bytea,
  tags text[],
  CONSTRAINT customers_email_key UNIQUE (email)
);
COMMENT ON TABLE shop.customers IS 'People who buy';
COMMENT ON COLUMN shop.customers.email IS 'Login address';
CREATE TABLE shop.orders (
  id integer PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES shop.customers (id),
  placed_on date,
  total numeric(18,4),
  scores double precision[]
);
CREATE INDEX orders_placed_on_idx ON shop.orders (placed_on);
CREATE TABLE shop.order_items (
  order_id integer REFERENCES shop.orders (id),
  line integer,
  sku character varying(32),
  qty smallint CHECK (qty > 0),
  PRIMARY KEY (order_id, line)
);
CREATE VIEW shop.big_orders AS SELECT id, total FROM shop.orders WHERE total > 100;
INSERT INTO shop.customers VALUES
  (1, 'ann@example.com', 'Ann', 1234.5678, true, '2024-03-01 12:00:00+00', '\x00ff01'::bytea, '{a,b}'::text[]),
  (2, 'bob@example.com', NULL, -0.0001, false, NULL, NULL, NULL);
INSERT INTO shop.orders VALUES (10, 1, '2024-03-02', 150.25, '{1.5,2}'::double precision[]), (11, 2, '2024-03-03', 20, NULL);
INSERT INTO shop.order_items VALUES (10, 1, 'SKU-1', 2), (10, 2, 'SKU-2', 1), (11, 1, 'SKU-1', 5);
-- A table in the default schema (public in Postgres, main in aiduck).
CREATE TABLE default_schema_probe (id integer PRIMARY KEY, note text);
