"""CPU per request, health against submission, measured in one process: the WSGI application
of `config.wsgi` (what gunicorn serves, with its heap settings) called directly, and the
PostgreSQL backend serving it read from /proc. No HTTP server, no load generator, no other
client: the figures hardly move when the machine's speed of the minute does, which the
opening-rush throughput (bench_intake) cannot say of itself. The throughput ratio that the
rush measures tends to this CPU ratio when both runs saturate the two cores.

    make bench BENCH=request_cpu

Each round: ROUNDS × (N health reads, N submissions of the ~150 KB card photo by distinct
members); the figures are the best round's (the least disturbed by the rest of the machine).
Runs with DEBUG off and without a Celery worker (the registry hand-off is the Redis push).
"""

import io
import os
import shutil
import sys
import time
from pathlib import Path

N = int(os.environ.get("BENCH_CPU_REQUESTS", "300"))
ROUNDS = int(os.environ.get("BENCH_CPU_ROUNDS", "3"))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _call(app, environ: dict) -> tuple[int, bytes]:
    status = []
    body = b"".join(app(environ, lambda s, h, exc_info=None: status.append(s)))
    return int(status[0].split(" ", 1)[0]), body


def _environ(method: str, path: str, token: str, body: bytes = b"", ctype: str = "") -> dict:
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8310",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8310",
        "HTTP_AUTHORIZATION": f"Token {token}",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if body:
        env["CONTENT_LENGTH"] = str(len(body))
        env["CONTENT_TYPE"] = ctype
    return env


def measure(report=None):
    from django.db import connection
    from django.test import override_settings

    from subsidy.models import Application
    from tests.perf import bench_intake
    from tests.perf.loadgen import Multipart
    from tests.subsidy.conftest import ICBC_DEBIT

    members = N * (ROUNDS + 1)
    bench_intake.MEMBERS = members
    bench_intake.CAP = members
    tokens = bench_intake.prepare()
    photo = bench_intake.card_jpeg()
    multipart = Multipart("card_photo", "card.jpg", "image/jpeg", photo)
    ctype = f"multipart/form-data; boundary={multipart.boundary}"
    form = bench_intake.bench_form(ICBC_DEBIT)

    def submission(i):
        parts = multipart.parts({**form, "study_number": f"2024{i:09d}"})
        env = _environ("POST", "/api/v1/applications/", tokens[i], b"".join(parts), ctype)
        env["HTTP_IDEMPOTENCY_KEY"] = f"cpu-{i}"
        return env

    root = bench_intake.bench_media_root("bench-cpu-")
    create_ms = bench_intake.file_create_ms(root)
    try:
        with override_settings(PRIVATE_MEDIA_ROOT=root, DEBUG=False):
            from config.wsgi import application

            connection.close()  # the application's requests open (and keep) their own
            status, body = _call(application, _environ("GET", "/api/v1/health/", tokens[0]))
            assert status == 200, body[:300]
            with connection.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                backend = cur.fetchone()[0]
            best = None
            for r in range(ROUNDS + 1):  # round 0 warms up
                base = r * N
                health = [_environ("GET", "/api/v1/health/", tokens[base + i]) for i in range(N)]
                subs = [submission(base + i) for i in range(N)]
                figures = {}
                for name, envs, expected in (("health", health, 200), ("submission", subs, 201)):
                    py0, pg0 = time.process_time(), _proc_cpu(backend)
                    for env in envs:
                        status, body = _call(application, env)
                        assert status == expected, (name, status, body[:300])
                    figures[name] = (
                        (time.process_time() - py0) / N * 1000,
                        (_proc_cpu(backend) - pg0) / N * 1000,
                    )
                if r and (
                    best is None or sum(map(sum, figures.values())) < sum(map(sum, best.values()))
                ):
                    best = figures
            assert Application.objects.count() == N * (ROUNDS + 1)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    _clear_pending()
    return best, create_ms


def _clear_pending():
    import redis
    from django.conf import settings

    from config.celery import app
    from registry import pipeline

    redis.Redis.from_url(settings.REDIS_URL).delete(pipeline.PENDING_KEY, pipeline.DRAIN_FLAG_KEY)
    if app.conf.broker_url and app.conf.broker_url.startswith("redis"):
        redis.Redis.from_url(app.conf.broker_url).delete("registry-dispatch")


def run(report):
    best, create_ms = measure()
    area = "request CPU"
    for name, (py, pg) in best.items():
        report.row(
            area, f"{name}: Python (WSGI app), PostgreSQL backend", f"{py:.2f}, {pg:.2f}", "ms CPU"
        )
    h, s = (sum(best[k]) for k in ("health", "submission"))
    report.row(area, "health / submission CPU (Python + PostgreSQL)", h / s, "", ">= 0.5")
    report.row(
        area,
        "keeping the photo: as a new file (earlier), appended to a segment (now)",
        f"{create_ms[0]:.3f}, {create_ms[1]:.3f}",
        "ms CPU",
        "",
        "a new file's cost varies with the directory and the hour on this machine",
    )
    print(f"   best of {ROUNDS} rounds of {N}: {best}", flush=True)
