"""The Python side of bench/driver-bulk-insert.mjs: inserts ROWS rows (id, 'name <id>') into the
existing table `bulk` of one server the way one driver idiom does, and prints JSON with the seconds
the insert and its commit took (connecting and importing are not timed).

Usage: python3 driver_bulk_insert.py HOST PORT USER DATABASE PATH ROWS
PATH: execute_batch | execute_values | executemany | to_sql | to_sql_multi | copy_expert
"""
import io
import json
import sys
import time

import psycopg2
import psycopg2.extras

host, port, user, database, path, rows = sys.argv[1:7]
rows = int(rows)
data = [(i, f"name {i}") for i in range(1, rows + 1)]
INSERT = "INSERT INTO bulk (id, name) VALUES (%s, %s)"


def with_cursor(fn):
    conn = psycopg2.connect(host=host, port=port, user=user, dbname=database)
    cur = conn.cursor()
    started = time.perf_counter()
    fn(cur)
    conn.commit()
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


CSV = "".join(f"{i},{name}\n" for i, name in data) if path == "copy_expert" else ""


def copy_expert(cur):
    cur.copy_expert("COPY bulk (id, name) FROM STDIN WITH (FORMAT csv)", io.StringIO(CSV))


def to_sql(method):
    import pandas
    import sqlalchemy

    engine = sqlalchemy.create_engine(f"postgresql+psycopg2://{user}@{host}:{port}/{database}")
    frame = pandas.DataFrame(data, columns=["id", "name"])
    with engine.connect() as warm:  # the engine's first connection (dialect set-up) is not timed
        warm.exec_driver_sql("SELECT 1")
    started = time.perf_counter()
    frame.to_sql("bulk", engine, if_exists="append", index=False, method=method)
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds


PATHS = {
    "execute_batch": lambda: with_cursor(lambda cur: psycopg2.extras.execute_batch(cur, INSERT, data)),
    "execute_values": lambda: with_cursor(
        lambda cur: psycopg2.extras.execute_values(cur, "INSERT INTO bulk (id, name) VALUES %s", data)),
    "executemany": lambda: with_cursor(lambda cur: cur.executemany(INSERT, data)),
    "copy_expert": lambda: with_cursor(copy_expert),
    "to_sql": lambda: to_sql(None),
    "to_sql_multi": lambda: to_sql("multi"),
}

print(json.dumps({"seconds": PATHS[path]()}))
