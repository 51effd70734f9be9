"""The same rows of many types inserted through psycopg2 four ways against one server — execute_batch
(a Query of many INSERTs), execute_values (one INSERT of many rows), executemany and cursor.execute
row by row — and mixed literal types in one column; prints JSON: each way's rows read back as the
server's text, and what a batch with a failing row in its middle reports (SQLSTATE, rows left).
Against aiduck also how many statements DuckDB prepared.

Usage: python3 bulk_fidelity.py HOST PORT USER DATABASE SCHEMA
Run against aiduck and PostgreSQL 15 by test/clients/bulk-fidelity.test.ts, which compares them.
"""
import datetime
import decimal
import json
import sys
import uuid

import psycopg2
import psycopg2.extras

host, port, user, database, schema = sys.argv[1:6]
conn = psycopg2.connect(host=host, port=port, user=user, dbname=database)
cur = conn.cursor()
out = {}

COLUMNS = ("(id integer PRIMARY KEY, sm smallint, i8 bigint, n numeric(10,3), u numeric, d double precision, t text, b boolean, "
           "raw bytea, dt date, ts timestamp, tz timestamptz, iv interval, uu uuid, ia integer[], ta text[], j json)")
INSERT = "INSERT INTO {} (id, sm, i8, n, u, d, t, b, raw, dt, ts, tz, iv, uu, ia, ta, j) VALUES "
PARAMS = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"

SMALLS = [32767, -32768, None, 7, 2.5]
LONGS = [9223372036854775807, -9223372036854775808, 0, None, -9007199254740993]
DECIMALS = [decimal.Decimal("1.0005"), decimal.Decimal("-1.0005"), decimal.Decimal("9999999.999"), 0.125, 12, None, decimal.Decimal("NaN")]
UNCONSTRAINED = [decimal.Decimal("123456789012345678"), decimal.Decimal("0.0000000001"), -1.5, 10, None]
DOUBLES = [0.1, float("nan"), float("-inf"), -0.0, 1e308, 5e-324, 123456789.123456789, 1, decimal.Decimal("2.5"), None]
TEXTS = ["plain", "it's", "back\\slash", "üñí ☃", "", "{1,2}", "\\x00ff", "tab\tnew\nline", "x" * 3000, None, "--not a comment", "semi;colon", "$$dollar$$"]
BOOLS = [True, False, None]


def row(k, id_=None):
    tz = datetime.timezone(datetime.timedelta(hours=k % 5 - 2))
    return (k + 1 if id_ is None else id_, SMALLS[k % len(SMALLS)], LONGS[k % len(LONGS)], DECIMALS[k % len(DECIMALS)] if k % len(DECIMALS) != 6 else None,
            UNCONSTRAINED[k % len(UNCONSTRAINED)], DOUBLES[k % len(DOUBLES)], TEXTS[k % len(TEXTS)], BOOLS[k % len(BOOLS)],
            psycopg2.Binary(bytes([k % 256, 255, 0, 92])) if k % 4 else None,
            datetime.date(2020, 2, 28) + datetime.timedelta(days=k) if k % 6 else None,
            datetime.datetime(2021, 3, 4, 5, 6, 7, 123456 + k) if k % 5 else None,
            datetime.datetime(2022, 1, 2, 3, 4, 5, tzinfo=tz) if k % 7 else None,
            datetime.timedelta(days=k, seconds=3661, microseconds=5) if k % 3 else None,
            uuid.UUID(int=k) if k % 4 != 1 else None,
            [k, None, -k] if k % 5 != 4 else None, ["a b", None, "c,d", '"q"', "NULL"] if k % 5 != 3 else None,
            json.dumps({"k": k, "s": "v"}) if k % 4 != 2 else None)


ROWS = 60
psycopg2.extras.register_uuid()


def prepares():
    try:
        cur.execute("SHOW aiduck.statement_prepares")
        return int(cur.fetchone()[0])
    except psycopg2.Error:
        conn.rollback()
        return None


def fresh(table, columns=COLUMNS):
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(f"CREATE TABLE {table} {columns}")
    conn.commit()


def read(table):
    cur.execute(f"SELECT * FROM {table} ORDER BY id")
    # every value as the server's text: a cursor that does not convert
    rows = [[None if v is None else str(v) for v in r] for r in cur.fetchall()]
    conn.commit()
    return rows


def insert_all(way, table, rows):
    if way == "execute_batch":
        psycopg2.extras.execute_batch(cur, INSERT.format(table) + PARAMS, rows, page_size=25)
    elif way == "execute_values":
        psycopg2.extras.execute_values(cur, INSERT.format(table) + "%s", rows, page_size=25)
    elif way == "executemany":
        cur.executemany(INSERT.format(table) + PARAMS, rows)
    else:
        for r in rows:
            cur.execute(INSERT.format(table) + PARAMS, r)


def way_result(way, failing_at=None):
    table = f"pf_{way}"
    fresh(table)
    rows = [row(k, 1 if k == failing_at else None) for k in range(ROWS)]
    before = prepares()
    result = {}
    try:
        insert_all(way, table, rows)
        conn.commit()
    except psycopg2.Error as e:
        result["error"] = e.pgcode
        conn.rollback()
    after = prepares()
    if before is not None and after is not None:
        result["prepares"] = after - before - 1
    result["rows"] = read(table)
    return result


# every value read back as the server's text, unchanged by psycopg2's casters
psycopg2.extensions.register_type(psycopg2.extensions.new_type(tuple(range(16, 4000)), "SERVER_TEXT", lambda v, c: v), conn)

for way in ["execute_batch", "execute_values", "executemany", "row_by_row"]:
    out[way] = way_result(way)
    out[way + "_duplicate"] = way_result(way, failing_at=41)

# mixed literal types in one column (psycopg2 writes ints, floats and Decimals as bare numbers)
MIXED = "(id integer, i integer, t text, d double precision, n numeric(8,3))"
mixed_rows = [(1, 1, 1, 1, 1), (2, 1.5, 1.5, 1.5, 1.5), (3, None, None, None, None), (4, decimal.Decimal("-2.5"), decimal.Decimal("-2.50"), decimal.Decimal("2.0005"), 2.0005),
              (5, 7, "x", 2e1, 2), (6, 2147483647, 2147483648, 9007199254740993, decimal.Decimal("99999.9994"))]
for way in ["execute_batch", "execute_values", "row_by_row"]:
    fresh("pf_mixed", MIXED)
    try:
        if way == "execute_values":
            psycopg2.extras.execute_values(cur, "INSERT INTO pf_mixed (id, i, t, d, n) VALUES %s", mixed_rows)
        elif way == "execute_batch":
            psycopg2.extras.execute_batch(cur, "INSERT INTO pf_mixed (id, i, t, d, n) VALUES (%s, %s, %s, %s, %s)", mixed_rows)
        else:
            for r in mixed_rows:
                cur.execute("INSERT INTO pf_mixed (id, i, t, d, n) VALUES (%s, %s, %s, %s, %s)", r)
        conn.commit()
        out["mixed_" + way] = read("pf_mixed")
    except psycopg2.Error as e:
        conn.rollback()
        out["mixed_" + way] = {"error": e.pgcode}

print(json.dumps(out))
