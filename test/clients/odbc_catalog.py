"""psqlODBC's catalog functions through pyodbc against one server; prints JSON.

Usage: python3 odbc_catalog.py HOST PORT USER DATABASE SCHEMA
Run against aiduck and against PostgreSQL 15 by test/clients/odbc.test.ts, which compares the two.
"""
import datetime
import decimal
import json
import sys

import pyodbc

host, port, user, database, schema = sys.argv[1:6]
DRIVER = "/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so"
conn = pyodbc.connect(f"Driver={DRIVER};Server={host};Port={port};Database={database};Uid={user};Pwd=;SSLMode=disable",
                      autocommit=True)
out = {}


def plain(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, (decimal.Decimal, datetime.date, datetime.time, datetime.datetime)):
        return str(value)
    return value


def rows(cursor):
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, (plain(v) for v in row))) for row in cursor.fetchall()]


def step(name, fn):
    try:
        out[name] = fn()
    except pyodbc.Error as e:
        out[name] = {"error": " ".join(str(a) for a in e.args).splitlines()[0]}


step("tables", lambda: rows(conn.cursor().tables(schema=schema)))
for table in ("customers", "orders", "order_items"):
    step(f"{table}.columns", lambda: rows(conn.cursor().columns(table=table, schema=schema)))
    step(f"{table}.primaryKeys", lambda: rows(conn.cursor().primaryKeys(table=table, schema=schema)))
    step(f"{table}.foreignKeys", lambda: rows(conn.cursor().foreignKeys(table=table, schema=schema)))
    step(f"{table}.referencedBy", lambda: rows(conn.cursor().foreignKeys(foreignTable=table, foreignSchema=schema)))
    step(f"{table}.statistics", lambda: rows(conn.cursor().statistics(table=table, schema=schema)))


def query():
    cur = conn.cursor()
    cur.execute(f"SELECT * FROM {schema}.customers ORDER BY id")
    return {"description": [[d[0], d[1].__name__, d[3], d[4], d[5], d[6]] for d in cur.description], "rows": rows(cur)}


step("select", query)


def parameters():
    cur = conn.cursor()
    cur.execute(f"SELECT id, email FROM {schema}.customers WHERE id = ? AND email LIKE ?", 1, "%@example.com")
    return rows(cur)


step("parameters", parameters)
print(json.dumps(out, indent=1, sort_keys=True, default=str))
