"""Everyday driver idioms against one server; prints JSON: psycopg2's savepoints, named (server-side)
cursors, scrollable and holdable ones, and read-only sessions; psqlODBC (through pyodbc) with
autocommit off, where it wraps each statement in a savepoint, with parameterized statements that it
prepares and deallocates in turn, and with UseDeclareFetch, where it reads results through a cursor.

Usage: python3 driver_idioms.py HOST PORT USER DATABASE SCHEMA
Run against aiduck and against PostgreSQL 15 by test/clients/driver-idioms.test.ts, which compares the two.
"""
import json
import sys

import psycopg2
import pyodbc

host, port, user, database, schema = sys.argv[1:6]
table = f"{schema}.idiom_items"
out = {}


def step(name, fn):
    try:
        out[name] = fn()
    except Exception as e:  # the comparison shows which idiom failed and how
        out[name] = {"error": f"{type(e).__name__}: {getattr(e, 'pgcode', None)}"}


conn = psycopg2.connect(host=host, port=port, user=user, dbname=database)
cur = conn.cursor()
cur.execute(f"CREATE TABLE {table} (id integer PRIMARY KEY, label text)")
conn.commit()


def savepoints():
    cur.execute(f"INSERT INTO {table} VALUES (1, 'one')")
    cur.execute("SAVEPOINT before_two")
    cur.execute(f"INSERT INTO {table} VALUES (2, 'two')")
    try:
        cur.execute(f"INSERT INTO {table} VALUES (1, 'dup')")
        duplicate = None
    except psycopg2.Error as e:
        duplicate = e.pgcode
    cur.execute("ROLLBACK TO SAVEPOINT before_two")
    cur.execute(f"INSERT INTO {table} VALUES (3, 'three')")
    cur.execute("RELEASE SAVEPOINT before_two")
    conn.commit()
    cur.execute(f"SELECT id, label FROM {table} ORDER BY id")
    return {"duplicate": duplicate, "rows": cur.fetchall()}


def named_cursors():
    cur.execute(f"INSERT INTO {table} SELECT g, 'g' || g FROM generate_series(10, 5009) AS s(g)")
    conn.commit()
    streamed = conn.cursor("big")
    streamed.itersize = 700
    streamed.execute(f"SELECT id, label FROM {table} WHERE id >= 10 ORDER BY id")
    count = total = 0
    for row in streamed:
        count += 1
        total += row[0]
    streamed.close()
    conn.commit()
    scrolling = conn.cursor("scrolling", scrollable=True)
    scrolling.execute(f"SELECT id FROM {table} ORDER BY id")
    first_three = scrolling.fetchmany(3)
    scrolling.scroll(0, mode="absolute")
    again = scrolling.fetchone()
    scrolling.scroll(-2)
    back = scrolling.fetchone()
    scrolling.close()
    conn.commit()
    held = conn.cursor("held", withhold=True)
    held.execute(f"SELECT id FROM {table} ORDER BY id")
    conn.commit()
    after_commit = held.fetchmany(2)
    held.close()
    conn.commit()
    return {"rows": count, "sum": total, "scroll": [first_three, again, back], "withhold": after_commit}


def read_only():
    conn.set_session(readonly=True)
    try:
        cur.execute(f"SELECT count(*) FROM {table}")
        count = cur.fetchone()[0]
        try:
            cur.execute(f"INSERT INTO {table} VALUES (99, 'no')")
            refused = None
        except psycopg2.Error as e:
            refused = e.pgcode
        conn.rollback()
        return {"count": count, "insert": refused}
    finally:
        conn.set_session(readonly=False)


def orm_models():
    # What an ORM creates and inserts: SQLAlchemy's autoincrement primary key (SERIAL) and an identity column.
    import sqlalchemy as sa
    from sqlalchemy.orm import Session, declarative_base

    Base = declarative_base()

    class Author(Base):
        __tablename__ = "orm_authors"
        __table_args__ = {"schema": schema}
        id = sa.Column(sa.Integer, primary_key=True)
        name = sa.Column(sa.String(40), nullable=False)

    class Book(Base):
        __tablename__ = "orm_books"
        __table_args__ = {"schema": schema}
        id = sa.Column(sa.BigInteger, sa.Identity(start=100, increment=5), primary_key=True)
        title = sa.Column(sa.Text)
        author_id = sa.Column(sa.Integer, sa.ForeignKey(f"{schema}.orm_authors.id"))

    engine = sa.create_engine("postgresql+psycopg2://", creator=lambda: psycopg2.connect(host=host, port=port, user=user, dbname=database))
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        a, b = Author(name="Ann"), Author(name="Bo")
        s.add_all([a, b])
        s.flush()
        s.add_all([Book(title="One", author_id=a.id), Book(title="Two", author_id=b.id)])
        s.commit()
        rows = [(x.id, x.title, x.author_id) for x in s.query(Book).order_by(Book.id)]
        ids = [a.id, b.id]
    columns = sa.inspect(engine).get_columns("orm_books", schema=schema)
    engine.dispose()
    return {"authors": ids, "books": rows, "id_default": [c["name"] for c in columns if c.get("autoincrement") or c.get("identity")]}


def error_fields():
    # What drivers read off an error: e.diag's table, constraint and the statement position psql draws its caret from.
    c = psycopg2.connect(host=host, port=port, user=user, dbname=database)
    c.autocommit = True
    k = c.cursor()
    k.execute(f"CREATE TABLE {schema}.et (a int PRIMARY KEY, b int, c int, UNIQUE (b, c))")
    k.execute(f"INSERT INTO {schema}.et VALUES (1, 1, 1)")
    k.execute(f"CREATE TABLE {schema}.ef (x int REFERENCES {schema}.et (a), n int NOT NULL CHECK (n > 0))")
    out = []
    for sql in [f"INSERT INTO {schema}.et VALUES (1, 2, 2)", f"INSERT INTO {schema}.et VALUES (2, 1, 1)", f"INSERT INTO {schema}.ef VALUES (5, 1)",
                f"INSERT INTO {schema}.ef VALUES (1, NULL)", f"INSERT INTO {schema}.ef VALUES (1, -1)", f"SELECT 1,\n  2 FROMM {schema}.et",
                f"SELECT nosuch FROM {schema}.et", "SELEC 1", f"SELECT count(*), nosuch FROM {schema}.et"]:
        try:
            k.execute(sql)
            out.append("no error")
        except psycopg2.Error as e:
            d = e.diag
            out.append({"code": e.pgcode, "message": d.message_primary, "table": d.table_name, "constraint": d.constraint_name,
                        "position": d.statement_position, "detail": d.message_detail})
    c.close()
    return out


step("psycopg2.error_fields", error_fields)
step("sqlalchemy.orm", orm_models)
step("psycopg2.savepoints", savepoints)
step("psycopg2.named_cursors", named_cursors)
step("psycopg2.read_only", read_only)
conn.commit()

DRIVER = "/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so"


def odbc(options=""):
    cn = pyodbc.connect(f"Driver={DRIVER};Server={host};Port={port};Database={database};Uid={user};Pwd=;SSLMode=disable{options}",
                        autocommit=False)
    c = cn.cursor()
    c.execute(f"DELETE FROM {table} WHERE id < 10")
    cn.commit()
    for i in range(1, 6):
        c.execute(f"INSERT INTO {table} VALUES (?, ?)", i, f"r{i}")
    try:
        c.execute(f"INSERT INTO {table} VALUES (?, ?)", 3, "dup")
        duplicate = None
    except pyodbc.Error as e:
        duplicate = e.args[0]
    # psqlODBC rolled back to the savepoint it set around the failed statement: the transaction goes on.
    c.execute(f"INSERT INTO {table} VALUES (?, ?)", 6, "r6")
    cn.commit()
    rows = [tuple(r) for r in c.execute(f"SELECT id, label FROM {table} WHERE id < 10 ORDER BY id").fetchall()]
    alternating = []
    for i in range(1, 4):
        alternating.append(c.execute(f"SELECT label FROM {table} WHERE id = ?", i).fetchone()[0])
        alternating.append(c.execute(f"SELECT id FROM {table} WHERE label = ?", f"r{i}").fetchone()[0])
    big = c.execute(f"SELECT id FROM {table} WHERE id >= 10 ORDER BY id").fetchall()
    cn.commit()
    cn.close()
    return {"duplicate": duplicate, "rows": rows, "alternating": alternating, "big": [len(big), big[0][0], big[-1][0]]}


def arrays():
    conn.rollback()
    cur.execute(f"CREATE TABLE {table}_arr (id integer, tags text[], nums integer[])")
    cur.execute(f"INSERT INTO {table}_arr VALUES (%s, %s, %s)", (1, ["a", "b,c", 'q"x', None, "{y}"], [1, None, 3]))
    cur.execute(f"INSERT INTO {table}_arr VALUES (%s, %s, %s)", (2, [], []))
    cur.execute(f"SELECT id, tags, nums FROM {table}_arr WHERE id = ANY(%s) ORDER BY id", ([1, 2, 5],))
    rows = cur.fetchall()
    cur.execute(f"SELECT id FROM {table}_arr WHERE %s = ANY(tags)", ("b,c",))
    found = cur.fetchall()
    conn.commit()
    return {"rows": rows, "found": found}


step("psycopg2.arrays", arrays)
step("odbc.transaction", odbc)
step("odbc.declare_fetch", lambda: odbc(";UseDeclareFetch=1;Fetch=100"))
print(json.dumps(out, indent=1, default=str))
