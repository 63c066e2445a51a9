"""`make bench`: runs every tests/perf/bench_*.py module and prints one table of figures.

Each module defines `run(report)` and calls `report.row(area, name, value, unit, target, note)`.
Benchmarks need PostgreSQL and Redis (DATABASE_URL / REDIS_URL; local defaults below) and
use their own database so they never touch the demo data. `make bench BENCH=allocation`
runs the modules whose name contains that word.
"""

import importlib
import os
import pkgutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/subsidy_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("CELERY_BROKER_URL", os.environ["REDIS_URL"])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("AXES_ENABLED", "0")
# Payment files and card photos of a benchmark go to a throw-away folder, never var/private.
os.environ.setdefault("PRIVATE_MEDIA_ROOT", tempfile.mkdtemp(prefix="bench-private-"))


class Report:
    def __init__(self):
        self.rows = []

    def row(self, area, name, value, unit="", target="", note=""):
        self.rows.append((area, name, value, unit, target, note))
        print(f"  {area:<12} {name:<52} {_fmt(value):>12} {unit:<8} {target}", flush=True)

    def table(self) -> str:
        head = ("area", "figure", "value", "unit", "target", "note")
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in self.rows:
            lines.append("| " + " | ".join(_fmt(c) for c in r) + " |")
        return "\n".join(lines)


def _fmt(v):
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 100 else f"{v:,.1f}"
    return str(v)


def _ensure_database():
    """Create the benchmark database on first use (it never holds the demo's data)."""
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
    if not cfg["ENGINE"].endswith("postgresql"):
        return
    params = dict(
        host=cfg["HOST"] or "127.0.0.1",
        port=cfg["PORT"] or 5432,
        user=cfg["USER"] or "postgres",
        password=cfg["PASSWORD"] or None,
    )
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')


def _reset_data():
    """Each benchmark starts from empty tables (reference data such as the BIN table stays):
    they were written to run alone, and one's rows must not skew another's figures."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE subsidy_application, subsidy_campaign, unions_member, unions_union, "
            "auth_user, reviews_auditrecord, reviews_chainhead RESTART IDENTITY CASCADE"
        )


def main(argv):
    import django

    _ensure_database()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    wanted = argv[1] if len(argv) > 1 else ""
    here = Path(__file__).parent
    report = Report()
    modules = sorted(
        m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_")
    )
    for name in modules:
        if wanted and wanted not in name:
            continue
        print(f"== {name}", flush=True)
        _reset_data()
        started = time.monotonic()
        importlib.import_module(f"tests.perf.{name}").run(report)
        print(f"   ({time.monotonic() - started:.1f} s)", flush=True)
    out = Path("bench-results")
    out.mkdir(exist_ok=True)
    (out / "latest.md").write_text(report.table() + "\n", encoding="utf-8")
    print("\n" + report.table())
    print(f"\n(written to {out / 'latest.md'})")


if __name__ == "__main__":
    main(sys.argv)
