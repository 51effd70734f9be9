"""SQLAlchemy's Inspector and pandas' read_sql_table/to_sql against one server; prints JSON.

Usage: python3 sqlalchemy_reflect.py HOST PORT USER DATABASE SCHEMA [--warm-catalog]
Run against aiduck and against PostgreSQL 15 by test/clients/sqlalchemy.test.ts, which compares the two.

--warm-catalog makes each new connection read the catalog once outside a transaction before
SQLAlchemy uses it: aiduck creates its catalog on a session's first catalog query, and a ROLLBACK
of the transaction that query ran in (SQLAlchemy's first connect) undoes it.
"""
import json
import sys

import pandas as pd
import psycopg2
import sqlalchemy as sa

host, port, user, database, schema = sys.argv[1:6]
warm_catalog = "--warm-catalog" in sys.argv[6:]


def connect():
    conn = psycopg2.connect(host=host, port=port, user=user, dbname=database)
    if warm_catalog:
        conn.autocommit = True
        conn.cursor().execute("SELECT 1 FROM pg_catalog.pg_class LIMIT 1")
        conn.autocommit = False
    return conn


engine = sa.create_engine("postgresql+psycopg2://", creator=connect)
out = {}


def plain(value):
    """A JSON-friendly form that keeps what a client would see (types by their repr)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, sa.types.TypeEngine):
        return repr(value)
    return str(value)


def step(name, fn):
    try:
        out[name] = plain(fn())
    except Exception as e:  # the comparison shows which call failed and why
        out[name] = {"error": f"{type(e).__name__}: {str(e).splitlines()[0]}"}


insp = sa.inspect(engine)
step("schemas", lambda: sorted(s for s in insp.get_schema_names() if s == schema))
step("tables", lambda: sorted(insp.get_table_names(schema=schema)))
step("views", lambda: sorted(insp.get_view_names(schema=schema)))
for table in ("customers", "orders", "order_items"):
    step(f"{table}.columns", lambda: insp.get_columns(table, schema=schema))
    step(f"{table}.pk", lambda: insp.get_pk_constraint(table, schema=schema))
    step(f"{table}.fks", lambda: sorted(insp.get_foreign_keys(table, schema=schema), key=lambda f: f["name"] or ""))
    step(f"{table}.indexes", lambda: sorted(insp.get_indexes(table, schema=schema), key=lambda i: i["name"]))
    step(f"{table}.unique", lambda: sorted(insp.get_unique_constraints(table, schema=schema), key=lambda u: u["name"]))
    step(f"{table}.checks", lambda: sorted(insp.get_check_constraints(table, schema=schema), key=lambda c: c["name"]))
    step(f"{table}.comment", lambda: insp.get_table_comment(table, schema=schema))
step("big_orders.columns", lambda: insp.get_columns("big_orders", schema=schema))
step("big_orders.definition", lambda: insp.get_view_definition("big_orders", schema=schema) is not None)
step("has_table", lambda: [insp.has_table("customers", schema=schema), insp.has_table("nope", schema=schema)])
step("default_schema", lambda: insp.default_schema_name)
step("default_schema.tables", lambda: sorted(insp.get_table_names()))
step("default_schema.pk", lambda: insp.get_pk_constraint("default_schema_probe"))


def frame(df):
    values = df.applymap(lambda v: "\\x" + v.hex() if isinstance(v, (bytes, memoryview)) else v)
    return {"columns": list(df.columns), "dtypes": [str(t) for t in df.dtypes],
            "rows": json.loads(values.to_json(orient="values", date_format="iso", default_handler=str))}


step("read_sql_table.customers", lambda: frame(pd.read_sql_table("customers", engine, schema=schema)))
step("read_sql_table.order_items", lambda: frame(pd.read_sql_table("order_items", engine, schema=schema)))


def round_trip():
    df = pd.DataFrame({
        "id": [1, 2, 3],
        "label": ["x", None, "z"],
        "amount": [1.5, 2.25, None],
        "flag": [True, False, True],
        "seen_at": pd.to_datetime(["2024-01-02 03:04:05", "2024-05-06 07:08:09", None], utc=True),
    })
    written = df.to_sql("pandas_out", engine, schema=schema, if_exists="replace", index=False)
    back = pd.read_sql_table("pandas_out", engine, schema=schema)
    columns = sa.inspect(engine).get_columns("pandas_out", schema=schema)
    return {"written": written, "back": frame(back), "columns": columns}


step("to_sql", round_trip)
# `at` is an ordinary column name in Postgres (SQLAlchemy leaves it unquoted).
step("to_sql.column_at", lambda: pd.DataFrame({"at": [1, 2]}).to_sql("pandas_at", engine, schema=schema, if_exists="replace", index=False))
step("to_sql.replace_again", lambda: pd.DataFrame({"id": [7]}).to_sql("pandas_out", engine, schema=schema, if_exists="replace", index=False))
print(json.dumps(out, indent=1, sort_keys=True))
