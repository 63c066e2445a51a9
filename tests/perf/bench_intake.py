"""Opening rush: 6000 eligible members with tokens, cap 5000, 200 concurrent clients each
submitting one application with a ~150 KB JPEG to gunicorn on loopback (PostgreSQL + Redis).

Same run, same clients: first every client reads GET /api/v1/health/ (token auth + one query)
for HEALTH_SECONDS, then all 6000 submit, then health again for HEALTH_SECONDS; the ratio is
taken against the mean of the two reads (this machine's speed drifts within minutes). Reports
submissions/s, p50/p95/p99 latency, the accepted count (must be exactly 5000; the other 1000
`intake_closed`), the time to fill the cap, peak RSS per gunicorn worker, and health
throughput.

The registry dispatch is left as in production: the hand-off to Redis after commit (each web
process's hand-off thread pushes the ids of the last 20 ms at once, one drain task per burst:
registry.pipeline and .handoff), with no worker running during the rush; the bench
counts the ids on the pending list afterwards (every accepted application, once). The check
also re-encodes the card photo (the request only verifies it): its CPU cost per photo is
measured separately and reported.

The load generator is `tests/perf/loadgen.py` (raw asyncio HTTP/1.1, keep-alive, pre-encoded
multipart): httpx's client saturated near 70 health req/s on this machine, measuring itself.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/subsidy_h3_bench \\
    REDIS_URL=redis://127.0.0.1:6379/3 CELERY_BROKER_URL=redis://127.0.0.1:6379/3 \\
    make bench BENCH=intake

The rush runs BENCH_INTAKE_RUNS times (3), each from fresh data and a fresh server, and the
medians are reported with every run's figures: on this machine the same code's ratio moved
between 0.37 and 0.49 from one run to the next. Smaller runs for a loaded machine:
BENCH_INTAKE_MEMBERS / _CAP / _CLIENTS / _HEALTH_SECONDS; the server is gunicorn.conf.py's
(gthread, SO_REUSEPORT) with the shape BENCH_INTAKE_WORKERS / _THREADS (2 × 8 by default).
"""

import asyncio
import io
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

MEMBERS = int(os.environ.get("BENCH_INTAKE_MEMBERS", "6000"))
CAP = int(os.environ.get("BENCH_INTAKE_CAP", "5000"))
CLIENTS = int(os.environ.get("BENCH_INTAKE_CLIENTS", "200"))
HEALTH_SECONDS = float(os.environ.get("BENCH_INTAKE_HEALTH_SECONDS", "8"))
PORT = int(os.environ.get("BENCH_INTAKE_PORT", "8310"))
WORKERS = int(os.environ.get("BENCH_INTAKE_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_INTAKE_THREADS", "8"))
RUNS = int(os.environ.get("BENCH_INTAKE_RUNS", "3"))
ROOT = Path(__file__).resolve().parents[2]
RETRIES: dict = {}
CPU: dict = {}
GUNICORN_WORKERS: list = []
HEALTH_CPU: list = []  # CPU deltas of the two health reads
HEALTH_COUNTS: list = []
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float:
    """user+sys seconds of one process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _cpu_snapshot() -> dict:
    """CPU seconds so far of the load generator, the gunicorn workers, PostgreSQL's processes,
    Redis, and the whole machine (from /proc/stat: busy = all but idle and iowait)."""
    by = {
        "load generator": time.process_time(),
        "gunicorn workers": 0.0,
        "postgres": 0.0,
        "redis": 0.0,
    }
    for pid in GUNICORN_WORKERS:
        by["gunicorn workers"] += _proc_cpu(pid)
    for name in ("postgres", "redis-server"):
        out = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True).stdout
        key = "redis" if name == "redis-server" else name
        by[key] = sum(_proc_cpu(int(p)) for p in out.split())
    cpu = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    by["machine"] = (sum(cpu) - cpu[3] - cpu[4]) / CLK_TCK
    return by


def _cpu_delta(before: dict, after: dict) -> dict:
    return {k: after[k] - before[k] for k in before}


def card_jpeg(target=150_000) -> bytes:
    """A card-sized photo with enough texture to weigh about `target` bytes."""
    from PIL import Image, ImageFilter

    rnd = random.Random(7)
    w, h = 1280, 808
    noise = Image.frombytes("RGB", (w // 4, h // 4), rnd.randbytes(w // 4 * h // 4 * 3))
    img = noise.resize((w, h)).filter(ImageFilter.GaussianBlur(1.2))
    best = b""
    for q in range(95, 20, -5):
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=q)
        best = buf.getvalue()
        if len(best) <= target * 1.1:
            break
    return best


def prepare():
    """Fresh data in the bench database: a union tree, 6000 members with tokens, a campaign."""
    import binascii

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone
    from rest_framework.authtoken.models import Token
    from stdnum.cn import ric

    from subsidy.models import BankBin, Campaign, CommitmentLetter
    from subsidy.refcache import current_commitment
    from unions.models import Member, Union
    from unions.pii import blind_index

    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE subsidy_application, subsidy_campaign, unions_member, authtoken_token, "
            "auth_user, unions_union RESTART IDENTITY CASCADE"
        )
    assert BankBin.objects.filter(bin="622202", bank="ICBC").exists(), "BIN table missing"
    if current_commitment.get() is None:
        CommitmentLetter.objects.create(version=1, text="承诺书", active=True)
    city = Union.objects.create(name="广州市总工会", level="city")
    district = Union.objects.create(
        name="越秀区总工会", level="district", parent=city, hotline="87370160"
    )
    unions = [
        Union.objects.create(name=f"越秀区压测单位工会{i}", level="grassroots", parent=district)
        for i in range(20)
    ]
    now = timezone.now()
    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"1390{i:07d}") for i in range(MEMBERS)], batch_size=1000
    )
    members = []
    for i, user in enumerate(users):
        body = f"440106{19800101 + (i // 900) * 10000:08d}"[:14] + f"{i % 900 + 100:03d}"
        id_number = body + ric.calc_check_digit(body)
        members.append(
            Member(
                name=f"压测{i}",
                id_number=id_number,
                id_hmac=blind_index(id_number),
                mobile=user.username,
                union=unions[i % len(unions)],
                status="active",
                active_since=now - timedelta(days=400),
                user=user,
            )
        )
    Member.objects.bulk_create(members, batch_size=1000)
    tokens = Token.objects.bulk_create(
        [Token(key=binascii.hexlify(os.urandom(20)).decode(), user=u) for u in users],
        batch_size=1000,
    )
    Campaign.objects.create(
        year=now.year,
        title="压测批次",
        eligible_from=(now - timedelta(days=300)).date(),
        eligible_until=(now + timedelta(days=30)).date(),
        membership_deadline=now - timedelta(days=1),
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=4),
        grassroots_review_until=now + timedelta(days=6),
        district_review_until=now + timedelta(days=12),
        city_review_until=now + timedelta(days=18),
        quota=4126,
        application_cap=CAP,
        amount_cny="1500.00",
    )
    return [t.key for t in tokens]


def start_gunicorn(private_root: str):
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "AXES_ENABLED": "0",
        "PRIVATE_MEDIA_ROOT": private_root,
        "LOG_LEVEL": "WARNING",
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    # The production settings (gunicorn.conf.py: gthread, keep-alive, SO_REUSEPORT) with this
    # bench's address and shape.
    cmd = [
        str(Path(sys.executable).parent / "gunicorn"),
        "config.wsgi",
        "-c",
        str(ROOT / "gunicorn.conf.py"),
        "-b",
        f"127.0.0.1:{PORT}",
        "-w",
        str(WORKERS),
        "--threads",
        str(THREADS),
        "--timeout",
        "60",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    import httpx

    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{PORT}/login/", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("gunicorn did not start")


def bench_form(account: str) -> dict:
    """The tests' valid submission, as the mini-program sends it ("true" for the boxes); the
    study number is set per request."""
    from tests.subsidy.conftest import form_data

    on = "true"
    return form_data(
        bank_account=account,
        confirm_identity=on,
        accept_commitment=on,
        notify_opt_in=on,
        study_number=None,
    )


def bench_media_root(prefix: str) -> str:
    """A fresh PRIVATE_MEDIA_ROOT beside production's default (var/private), or under
    BENCH_MEDIA_BASE. On this sandbox the CPU a new file costs depends on where on the volume
    its directory lies, and changes from machine to machine: on 2026-11-27 a 150 KB file cost
    ~1 ms in /tmp and 0.1–0.2 ms under var/; on 2026-12-05 0.78 ms under var/, 0.27 ms in
    /tmp and 0.02 ms in /var/tmp (500 files each). `file_create_ms` measures it for the root
    a run uses, and the benches report it beside the submissions it is part of."""
    base = Path(os.environ.get("BENCH_MEDIA_BASE", ROOT / "var"))
    base.mkdir(parents=True, exist_ok=True)
    return tempfile.mkdtemp(prefix=prefix, dir=base)


def file_create_ms(directory: str, n: int = 200, size: int = 150_000) -> tuple[float, float]:
    """CPU to keep one received photo of `size` bytes in `directory`: (as a new file, written
    and renamed into place as earlier versions did; as the submission does now, appended to
    the process's segment — `subsidy.services.received`). Medians of 3 rounds of n."""
    from django.test import override_settings

    from subsidy.services import received

    data = os.urandom(size)
    probe = Path(tempfile.mkdtemp(prefix="probe-", dir=directory))
    new_file, append = [], []
    try:
        with override_settings(PRIVATE_MEDIA_ROOT=probe):
            for r in range(3):
                started = time.process_time()
                for i in range(n):
                    part = probe / f"{r}-{i}.part"
                    part.write_bytes(data)
                    os.replace(part, probe / f"{r}-{i}.upload")
                new_file.append((time.process_time() - started) / n * 1000)
                started = time.process_time()
                for _ in range(n):
                    received.append(data)
                append.append((time.process_time() - started) / n * 1000)
    finally:
        if received._open_segment is not None:
            os.close(received._open_segment.fd)
            received._open_segment = None
        shutil.rmtree(probe, ignore_errors=True)
    return statistics.median(new_file), statistics.median(append)


def handed_off(clear: bool = False) -> int:
    """Distinct application ids on the registry's pending list (no worker drains it during
    the bench); `clear`: empty it, and the drain flag and queue, first."""
    import redis

    from config.celery import app
    from registry import pipeline

    r = redis.Redis.from_url(app.conf.broker_write_url)
    if clear:
        r.delete(pipeline.PENDING_KEY, pipeline.DRAIN_FLAG_KEY, "registry-dispatch")
    return len(set(r.lrange(pipeline.PENDING_KEY, 0, -1)))


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def rush(tokens, photo, account):
    from tests.perf.loadgen import Connection, Multipart, get_head

    host = f"127.0.0.1:{PORT}"
    form = bench_form(account)
    multipart = Multipart("card_photo", "card.jpg", "image/jpeg", photo)
    connections = [Connection("127.0.0.1", PORT) for _ in range(CLIENTS)]

    # Phase 1 (and 3): the same clients (connections) read the health endpoint.
    async def health_phase():
        count = 0
        stop_at = time.monotonic() + HEALTH_SECONDS

        async def health_client(conn, token):
            nonlocal count
            head = get_head("/api/v1/health/", host, {"Authorization": f"Token {token}"})
            while time.monotonic() < stop_at:
                r = await conn.request(head)
                assert r.status == 200, r.body[:300]
                count += 1

        t0 = time.monotonic()
        await asyncio.gather(
            *(health_client(c, t) for c, t in zip(connections, tokens[:CLIENTS], strict=True))
        )
        HEALTH_COUNTS.append(count)
        return count / (time.monotonic() - t0)

    cpu0 = _cpu_snapshot()
    health_before = await health_phase()
    HEALTH_CPU.append(_cpu_delta(cpu0, _cpu_snapshot()))

    # Phase 2: every member submits once; CLIENTS requests in flight at any time.
    queue = asyncio.Queue()
    for i, t in enumerate(tokens):
        queue.put_nowait((i, t))
    latencies, outcomes, retries, samples = [], {}, {}, []
    filled_at = None
    start = time.monotonic()

    async def submit_client(conn):
        nonlocal filled_at
        while not queue.empty():
            i, token = queue.get_nowait()
            parts = multipart.parts({**form, "study_number": f"2024{i:09d}"})
            headers = {"Authorization": f"Token {token}", "Idempotency-Key": f"bench-{i}"}
            head = multipart.post_head("/api/v1/applications/", host, headers, parts)
            t = time.monotonic()
            for attempt in range(6):
                try:
                    r = await conn.request(head, parts)
                except (ConnectionError, asyncio.IncompleteReadError, OSError):
                    # A dropped keep-alive connection: retry with the same Idempotency-Key,
                    # which is what a mini-program on a bad network would do.
                    await conn.close()
                    retries["transport"] = retries.get("transport", 0) + 1
                    if attempt == 5:
                        raise
                    continue
                if r.status == 503 and attempt < 5:
                    # 系统繁忙: the client waits as told and retries with the same key.
                    retries["busy"] = retries.get("busy", 0) + 1
                    await asyncio.sleep(float(r.headers.get("retry-after", "1")))
                    continue
                break
            latencies.append(time.monotonic() - t)
            if r.status not in (200, 201, 409) and len(samples) < 5:
                samples.append((r.status, r.body[:300]))
            code = str(r.status) if r.status == 201 else r.json().get("code", r.status)
            outcomes[code] = outcomes.get(code, 0) + 1
            if r.status == 201 and outcomes["201"] == CAP:
                filled_at = time.monotonic() - start

    cpu0 = _cpu_snapshot()
    await asyncio.gather(*(submit_client(c) for c in connections))
    elapsed = time.monotonic() - start
    CPU.update(_cpu_delta(cpu0, _cpu_snapshot()))
    # Phase 3: health again. This machine's speed drifts by tens of percent within minutes
    # (a shared host): the ratio is taken against the mean of the reads around the rush.
    cpu0 = _cpu_snapshot()
    health_after = await health_phase()
    HEALTH_CPU.append(_cpu_delta(cpu0, _cpu_snapshot()))
    for c in connections:
        await c.close()
    RETRIES.update(retries)
    if samples or retries:
        print(f"   retries {retries}; unexpected answers {samples}", flush=True)
    return (health_before, health_after), latencies, outcomes, elapsed, filled_at


def _settle(limit=1.5, wait_at_most=120):
    """Start from a quiet machine: flush the earlier benchmarks' dirty pages (CHECKPOINT) and
    wait for the load they left (autovacuum, the registry bench's workers) to die down."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("CHECKPOINT")
        cur.execute("VACUUM ANALYZE unions_member")
    deadline = time.monotonic() + wait_at_most
    while os.getloadavg()[0] > limit and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()[0]


def run(report):
    """RUNS rushes, each from fresh data and a fresh server; with more than one, a summary of
    the medians follows the runs' own rows (this machine's speed drifts from run to run)."""
    runs = [_run_once(report, "intake" if RUNS == 1 else f"intake #{k + 1}") for k in range(RUNS)]
    if RUNS == 1:
        return
    area = f"intake, median of {RUNS}"
    for key, name, unit, target in (
        ("health", "health throughput", "req/s", ""),
        ("submit", "submissions throughput", "req/s", ""),
        ("ratio", "submit/health ratio", "", ">= 0.5"),
        ("cpu_ratio", "CPU-cost ratio (health ms / submission ms)", "", ""),
        ("p50", "submit latency p50", "ms", ""),
        ("p99", "submit latency p99", "ms", "< 1000"),
        ("fill", f"time to fill the cap of {CAP}", "s", "< 60"),
    ):
        values = [r[key] for r in runs]
        report.row(
            area,
            name,
            statistics.median(values),
            unit,
            target,
            "runs: " + ", ".join(f"{v:.3g}" for v in values),
        )
    report.row(
        area,
        "accepted / intake_closed, every run",
        ", ".join(f"{r['accepted']}/{r['closed']}" for r in runs),
        "",
        f"{CAP}/{MEMBERS - CAP}",
    )
    report.row(
        area,
        "handed to the registry check, every run",
        ", ".join(str(r["handed_off"]) for r in runs),
        "",
        f"{CAP}",
    )


def _run_once(report, area) -> dict:
    from subsidy.models import Application, Campaign
    from tests.subsidy.conftest import ICBC_DEBIT

    for acc in (RETRIES, CPU):
        acc.clear()
    HEALTH_CPU.clear()
    HEALTH_COUNTS.clear()
    print(f"   preparing {MEMBERS} members with tokens …", flush=True)
    tokens = prepare()
    photo = card_jpeg()
    load_before = _settle()
    private_root = bench_media_root("bench-intake-")
    create_ms = file_create_ms(private_root)
    handed_off(clear=True)
    proc = start_gunicorn(private_root)
    GUNICORN_WORKERS[:] = worker_pids(proc.pid)
    try:
        health, latencies, outcomes, elapsed, filled_at = asyncio.run(
            rush(tokens, photo, ICBC_DEBIT)
        )
        rss = [peak_rss_mb(pid) for pid in worker_pids(proc.pid)]
        time.sleep(0.5)  # the hand-off threads push within DELAY (0.02 s) of a commit
        pending = handed_off()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        shutil.rmtree(private_root, ignore_errors=True)
    stored = Application.objects.count()
    campaign = Campaign.objects.get()
    submit_rps = len(latencies) / elapsed
    accepted = outcomes.get("201", 0)
    figures = {"cpu_ratio": float("nan")}
    report.row(area, "host load average before the rush, 1 min (2 cores)", load_before)
    report.row(area, "photo size", round(len(photo) / 1024, 1), "KB", "~150")
    report.row(
        area,
        "CPU to keep one such photo: as a new file, appended to a segment (as now)",
        f"{create_ms[0]:.3f}, {create_ms[1]:.3f}",
        "ms",
        "",
        "where the photos go on this sandbox's disk; a new file's cost varies a lot",
    )
    health_rps = statistics.mean(health)
    report.row(
        area,
        "health throughput (same clients), mean of before and after the rush",
        health_rps,
        "req/s",
        "",
        f"{CLIENTS} clients: {health[0]:.0f} before, {health[1]:.0f} after",
    )
    report.row(area, "submissions throughput", submit_rps, "req/s", f">= {0.5 * health_rps:.0f}")
    report.row(area, "submit/health ratio", submit_rps / health_rps, "", ">= 0.5")
    report.row(
        area,
        "busy (503) retries, transport retries",
        f"{RETRIES.get('busy', 0)}, {RETRIES.get('transport', 0)}",
        "",
        "0",
    )
    if CPU and HEALTH_CPU:
        # The throughput ratio drifts with the machine's speed of the minute; CPU time per
        # request (the whole machine's busy time, and per process) is steadier.
        n_health = sum(HEALTH_COUNTS)
        h = {k: sum(d[k] for d in HEALTH_CPU) / n_health * 1000 for k in HEALTH_CPU[0]}
        s_ms = CPU["machine"] / len(latencies) * 1000
        report.row(
            area,
            "machine CPU per request: health, submission",
            f"{h['machine']:.2f}, {s_ms:.2f}",
            "ms",
            "",
            "health per process: "
            + ", ".join(f"{k} {v:.2f}" for k, v in h.items() if k != "machine"),
        )
        figures["cpu_ratio"] = h["machine"] / s_ms
        report.row(area, "CPU-cost ratio (health ms / submission ms)", figures["cpu_ratio"], "", "")
    if CPU:
        busy = CPU.pop("machine")
        report.row(
            area,
            "CPU during the rush, share of the 2 cores",
            busy / elapsed / 2 * 100,
            "%",
            "",
            ", ".join(f"{k} {v / elapsed * 100:.0f}%" for k, v in CPU.items())
            + " of one core; per submission: "
            + ", ".join(f"{k} {v / len(latencies) * 1000:.1f} ms" for k, v in CPU.items()),
        )
    report.row(area, "submit latency p50", pct(latencies, 50) * 1000, "ms")
    report.row(area, "submit latency p95", pct(latencies, 95) * 1000, "ms")
    report.row(area, "submit latency p99", pct(latencies, 99) * 1000, "ms", "< 1000")
    report.row(area, f"time to fill the cap of {CAP}", filled_at or float("nan"), "s", "< 60")
    report.row(area, "accepted (201)", accepted, "", f"== {CAP}")
    report.row(
        area, "refused intake_closed", outcomes.get("intake_closed", 0), "", f"== {MEMBERS - CAP}"
    )
    report.row(
        area,
        "other outcomes",
        {k: v for k, v in outcomes.items() if k not in ("201", "intake_closed")} or "none",
        "",
        "none",
    )
    report.row(
        area,
        "stored applications / applicant_count",
        f"{stored} / {campaign.applicant_count}",
        "",
        f"{CAP} / {CAP}",
    )
    report.row(
        area,
        "handed to the registry check (distinct ids on the pending list, 0.5 s after)",
        pending,
        "",
        f"== {CAP}",
    )
    # The re-encoding that the request no longer does: the registry check does it per photo.
    from subsidy.services import uploads

    started = time.process_time()
    for _ in range(20):
        uploads.sanitize(photo)
    sanitize_ms = (time.process_time() - started) / 20 * 1000
    report.row(
        area,
        "deferred re-encode per photo (registry-check worker, after commit)",
        sanitize_ms,
        "ms CPU",
        "",
        f"{CAP} photos ≈ {sanitize_ms * CAP / 1000:.0f} s of one core, outside the rush",
    )
    report.row(
        area,
        "peak RSS per gunicorn worker",
        max(rss) if rss else float("nan"),
        "MB",
        "",
        f"{WORKERS} workers × {THREADS} threads: {', '.join(f'{r:.0f}' for r in rss)}",
    )
    print(
        f"   latency mean {statistics.mean(latencies) * 1000:.0f} ms, outcomes {outcomes}",
        flush=True,
    )
    return {
        **figures,
        "health": health_rps,
        "submit": submit_rps,
        "ratio": submit_rps / health_rps,
        "p50": pct(latencies, 50) * 1000,
        "p99": pct(latencies, 99) * 1000,
        "fill": filled_at or float("nan"),
        "accepted": accepted,
        "closed": outcomes.get("intake_closed", 0),
        "handed_off": pending,
    }
