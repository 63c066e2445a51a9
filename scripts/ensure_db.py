"""Create the PostgreSQL database named in DATABASE_URL when it does not exist yet, so
`make run` works against a fresh server. Does nothing for SQLite."""

import os
import sys

url = os.environ.get("DATABASE_URL", "")
if not url.startswith(("postgres://", "postgresql://")):
    sys.exit(0)

import dj_database_url  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

cfg = dj_database_url.parse(url)
params = {
    "host": cfg.get("HOST") or None,
    "port": cfg.get("PORT") or None,
    "user": cfg.get("USER") or None,
    "password": cfg.get("PASSWORD") or None,
}
try:
    with psycopg.connect(dbname=cfg["NAME"], connect_timeout=5, **params):
        sys.exit(0)
except psycopg.OperationalError as exc:
    if "does not exist" not in str(exc):
        print(f"PostgreSQL is not reachable: {exc}", file=sys.stderr)
        sys.exit(1)
with psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=5, **params) as conn:
    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(cfg["NAME"])))
    print(f"created database {cfg['NAME']}")
