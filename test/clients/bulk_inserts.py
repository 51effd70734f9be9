"""Bulk inserts the way psycopg2 and pandas make them, against one server; prints JSON: the rows each
idiom stored (values of many kinds, read back typed), and what a failing batch does (its SQLSTATE,
what is left after it). Against aiduck also how many statements DuckDB prepared for a batch
(SHOW aiduck.statement_prepares), which the test bounds.

Usage: python3 bulk_inserts.py HOST PORT USER DATABASE SCHEMA
Run against aiduck and against PostgreSQL 15 by test/clients/bulk-inserts.test.ts, which compares the two.
"""
import datetime
import decimal
import io
import json
import sys

import psycopg2
import psycopg2.extras

host, port, user, database, schema = sys.argv[1:6]
out = {}
conn = psycopg2.connect(host=host, port=port, user=user, dbname=database)
cur = conn.cursor()
is_aiduck = False
try:
    cur.execute("SHOW aiduck.statement_prepares")
    is_aiduck = True
except psycopg2.Error:
    pass
conn.rollback()

PLAIN = "(id integer PRIMARY KEY, i8 bigint, d numeric(12,4), f double precision, s text, b boolean)"
NUMBERS = [0, 1, -1, 2147483647, -2147483648, 2147483648, -9007199254740993, 9223372036854775807]
DECIMALS = ["1.5", "-0.0001", "12345678.1234", "3", "0.00005", "-99999999.9999", "2.50"]
FLOATS = [0.1, -1e-05, 1e300, 2.5, -0.0, 123456.789, 5e-324]
STRINGS = ["plain", "it's", "back\\slash", "üñí ☃", "", "{1,2}", "\\x00ff", "semi;colon", "--no comment", None]
BOOLS = [True, False, None]


def plain_rows(n, first=1):
    return [(first + k, NUMBERS[k % len(NUMBERS)] if k % 11 else None, decimal.Decimal(DECIMALS[k % len(DECIMALS)]),
             FLOATS[k % len(FLOATS)], STRINGS[k % len(STRINGS)], BOOLS[k % len(BOOLS)]) for k in range(n)]


def typed_rows(n):
    return [(k + 1, bytes([k % 256, 255, 0, 1]) if k % 5 else None, datetime.date(2020, 1, 1) + datetime.timedelta(days=k),
             STRINGS[k % len(STRINGS)]) for k in range(n)]


def read(table):
    cur.execute(f"SELECT * FROM {table} ORDER BY id")
    return [[v.hex() if isinstance(v, memoryview) else str(v) if isinstance(v, (decimal.Decimal, datetime.date)) else v
             for v in row] for row in cur.fetchall()]


def prepares():
    if not is_aiduck:
        return 0
    cur.execute("SHOW aiduck.statement_prepares")
    return int(cur.fetchone()[0])


def fresh(table, columns=PLAIN):
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(f"CREATE TABLE {table} {columns}")
    conn.commit()


def step(name, fn):
    try:
        out[name] = fn()
    except Exception as e:  # the comparison shows which idiom failed and how
        conn.rollback()
        out[name] = {"error": f"{type(e).__name__}: {getattr(e, 'pgcode', None)} {e}"}


INSERT = "INSERT INTO {} (id, i8, d, f, s, b) VALUES (%s, %s, %s, %s, %s, %s)"


def execute_batch():
    fresh("bulk_batch")
    before = prepares()
    psycopg2.extras.execute_batch(cur, INSERT.format("bulk_batch"), plain_rows(2000))
    conn.commit()
    out["prepares.execute_batch"] = prepares() - before
    return read("bulk_batch")


def execute_values():
    fresh("bulk_values")
    before = prepares()
    psycopg2.extras.execute_values(cur, "INSERT INTO bulk_values (id, i8, d, f, s, b) VALUES %s", plain_rows(2000))
    conn.commit()
    out["prepares.execute_values"] = prepares() - before
    return read("bulk_values")


def executemany():
    fresh("bulk_many")
    before = prepares()
    cur.executemany(INSERT.format("bulk_many"), plain_rows(300))
    conn.commit()
    out["prepares.executemany"] = prepares() - before
    return read("bulk_many")


def typed_values():
    # bytea and date values are casts ('\\x..'::bytea, '2020-01-01'::date): such rows run as their own statements
    fresh("bulk_typed", "(id integer PRIMARY KEY, raw bytea, dt date, s text)")
    psycopg2.extras.execute_values(cur, "INSERT INTO bulk_typed (id, raw, dt, s) VALUES %s", typed_rows(300))
    conn.commit()
    return read("bulk_typed")


def failing(fn, table):
    def run():
        fresh(table)
        cur.execute(f"INSERT INTO {table} (id) VALUES (0)")
        conn.commit()
        try:
            fn()
            code = None
        except psycopg2.Error as e:
            code = e.pgcode
        conn.rollback()
        cur.execute(f"SELECT count(*), min(id), max(id) FROM {table}")
        return {"error": code, "left": list(cur.fetchone())}
    return run


def batch_duplicate():
    rows = plain_rows(500)
    rows[250] = (rows[100][0],) + rows[250][1:]
    psycopg2.extras.execute_batch(cur, INSERT.format("bulk_dup"), rows)


def values_duplicate():
    rows = plain_rows(500)
    rows[499] = (0,) + rows[499][1:]
    psycopg2.extras.execute_values(cur, "INSERT INTO bulk_dup_values (id, i8, d, f, s, b) VALUES %s", rows)


def values_out_of_range():
    # 2^31 is a BIGINT literal: stored into an integer column it is out of range (22003) in both servers
    rows = [(k + 1,) for k in range(300)]
    rows[150] = (2 ** 31,)
    psycopg2.extras.execute_values(cur, "INSERT INTO bulk_range (id) VALUES %s", rows)


def autocommit_batch():
    """Autocommit: each page of execute_batch is one Query, so one transaction: the failing page goes, the ones before stay."""
    fresh("bulk_auto")
    conn.autocommit = True
    rows = plain_rows(350)
    rows[230] = (rows[10][0],) + rows[230][1:]
    try:
        psycopg2.extras.execute_batch(cur, INSERT.format("bulk_auto"), rows)
        code = None
    except psycopg2.Error as e:
        code = e.pgcode
    cur.execute("SELECT count(*), min(id), max(id) FROM bulk_auto")
    left = list(cur.fetchone())
    conn.autocommit = False
    return {"error": code, "left": left}


def savepoint_after_failed_batch():
    """A savepoint before the batch: rolling back to it undoes the failed batch and keeps what came before."""
    fresh("bulk_sp")
    cur.execute("INSERT INTO bulk_sp (id) VALUES (-1)")
    cur.execute("SAVEPOINT before_batch")
    rows = plain_rows(300)
    rows[200] = (rows[3][0],) + rows[200][1:]
    try:
        psycopg2.extras.execute_batch(cur, INSERT.format("bulk_sp"), rows)
        code = None
    except psycopg2.Error as e:
        code = e.pgcode
    cur.execute("ROLLBACK TO SAVEPOINT before_batch")
    psycopg2.extras.execute_batch(cur, INSERT.format("bulk_sp"), plain_rows(150, first=1000))
    conn.commit()
    cur.execute("SELECT count(*), min(id), max(id) FROM bulk_sp")
    return {"error": code, "left": list(cur.fetchone())}


def to_sql_multi():
    import pandas
    import sqlalchemy

    conn.commit()  # a transaction begun before the table is made would not see it in aiduck (snapshot isolation)
    engine = sqlalchemy.create_engine(f"postgresql+psycopg2://{user}@{host}:{port}/{database}")
    frame = pandas.DataFrame([r for r in plain_rows(1500) if r[1] is not None and r[5] is not None],
                             columns=["id", "i8", "d", "f", "s", "b"])
    frame["d"] = frame["d"].astype(float)
    frame.to_sql("bulk_pandas", engine, if_exists="replace", index=False, method="multi")
    engine.dispose()
    return read("bulk_pandas")


def copy_text_escaped(value):
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


TRICKY = ["tab\there", "new\nline", "cr\rhere", "back\\slash", "\\N", "", "\x01soh", '"quoted"', "üñí", "ends with backslash\\"]


def copy_text(line_end):
    """COPY FROM STDIN in text format: mostly plain lines, some with escapes, NULLs and empty strings, in 8 kB pieces."""
    def run():
        fresh("bulk_copy", "(id integer, a text, b text)")
        lines = []
        for k in range(1, 5001):
            a = TRICKY[k % len(TRICKY)] if k % 13 == 0 else f"plain {k}"
            b = None if k % 7 == 0 else "" if k % 11 == 0 else f"b{k}"
            fields = [str(k), copy_text_escaped(a), "\\N" if b is None else copy_text_escaped(b)]
            if k % 17 == 0:
                fields[1] = "\\303\\251t\\x41"  # octal bytes of é, then hex A: 'étA'
            lines.append("\t".join(fields) + line_end)
        cur.copy_expert("COPY bulk_copy FROM STDIN", io.StringIO("".join(lines)), size=8192)
        conn.commit()
        return read("bulk_copy")
    return run


def copy_csv():
    fresh("bulk_copy_csv", "(id integer, a text, b text)")
    lines = [f'{k},"say ""{k}""\n on two lines",{"" if k % 5 == 0 else k}\n' for k in range(1, 3001)]
    cur.copy_expert("COPY bulk_copy_csv FROM STDIN WITH (FORMAT csv)", io.StringIO("".join(lines)), size=8192)
    conn.commit()
    return read("bulk_copy_csv")


step("execute_batch", execute_batch)
step("execute_values", execute_values)
step("executemany", executemany)
step("typed_values", typed_values)
step("batch_duplicate", failing(batch_duplicate, "bulk_dup"))
step("values_duplicate", failing(values_duplicate, "bulk_dup_values"))
step("values_out_of_range", failing(values_out_of_range, "bulk_range"))
step("autocommit_batch", autocommit_batch)
step("savepoint_after_failed_batch", savepoint_after_failed_batch)
step("to_sql_multi", to_sql_multi)
step("copy_text", copy_text("\n"))
step("copy_text_crlf", copy_text("\r\n"))
step("copy_csv", copy_csv)
print(json.dumps(out))
