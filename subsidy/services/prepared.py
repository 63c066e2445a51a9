"""Server-side prepared statements for the few statements every submission runs.

Django sends each query as text with its values bound on the client, so PostgreSQL parses
and plans it every time. For a submission's statements (the token join, the member's attempts
with the grant ledger, the claim-and-insert) planning cost ~1.3 ms of the server's CPU per
submission — a fifth of what the server spent on one — in the opening rush, where the web
processes and PostgreSQL share two cores (bench_intake). Here each is prepared once per
connection (`PREPARE name AS …`, non-transactional, kept until the connection closes) and
then run as `EXECUTE name(values)`: the values are still bound on the client, so an EXECUTE
may share a string with other statements (intake's one-round-trip transaction).

The SQL is written with `%s` placeholders, numbered `$1…$n` for PREPARE; a parameter whose
type its context does not fix needs an explicit cast in the SQL (`CAST(%s AS bigint)`). Other
databases (SQLite in development) run the SQL as it is.
"""

import weakref
import zlib

from django.db import DEFAULT_DB_ALIAS, connections

# psycopg connection → names prepared on it (a reconnect starts with none)
_prepared: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_names: dict = {}  # sql → its statement's name (a changed statement gets a new name)


def statement(name: str, sql: str, params: list) -> tuple[str, list]:
    """(sql, params) to run `sql` as the prepared statement `name` on the current connection,
    preparing it first if this connection has not. On other databases: `sql` itself."""
    db = connections[DEFAULT_DB_ALIAS]  # this thread's (the `connection` proxy looks it up)
    if db.vendor != "postgresql":
        return sql, params
    db.ensure_connection()
    name = _names.get(sql) or _names.setdefault(sql, f"{name}_{zlib.crc32(sql.encode()):08x}")
    names = _prepared.get(db.connection)
    if names is None:
        names = _prepared[db.connection] = set()
    if name not in names:
        numbered = sql
        for i in range(1, sql.count("%s") + 1):
            numbered = numbered.replace("%s", f"${i}", 1)
        with db.cursor() as cur:
            cur.execute(f"PREPARE {name} AS {numbered}")
        names.add(name)
    return f"EXECUTE {name}({', '.join(['%s'] * len(params))})", params


def execute(cur, name: str, sql: str, params: list) -> None:
    """cur.execute(sql, params), as the prepared statement `name`."""
    cur.execute(*statement(name, sql, params))
