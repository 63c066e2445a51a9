"""Registry pipeline throughput (issue 4): 6000 pending applications, the simulator adding
100 ms per lookup, 2 Celery worker processes with the threads pool, worker concurrency
1 / 8 / 32 / 64 threads each. Figures: time until all are decided, throughput, time to
result (p50 / p95 from dispatch), peak PostgreSQL connections of the bench database.

To keep the whole bench within a few minutes on a shared 2-core machine, concurrency 1, 8
and 32 run a fixed sample (BENCH_REGISTRY_SAMPLES) and the time for all N is extrapolated
from the measured throughput (the figure's name says so); the top setting, 64, decides all
N for real. BENCH_REGISTRY_SAMPLES="1:6000,8:6000,32:6000" runs every setting in full.
Rerun: `make bench BENCH=registry` (uses DATABASE_URL / REDIS_URL of tests/perf/run.py).
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
N = int(os.environ.get("BENCH_REGISTRY_N", "6000"))
LATENCY_MS = 100
CONCURRENCIES = [1, 8, 32, 64]
SAMPLES = dict(
    (int(k), int(v))
    for k, v in (
        p.split(":")
        for p in os.environ.get("BENCH_REGISTRY_SAMPLES", "1:200,8:800,32:800").split(",")
    )
)
SIM_PORT = int(os.environ.get("BENCH_REGISTRY_SIM_PORT", "8451"))
YEAR = 2099  # a campaign of its own


def _setup():
    from datetime import date

    from django.utils import timezone

    from subsidy.models import Application, Campaign
    from unions.models import Member, Union
    from unions.pii import blind_index

    now = timezone.now()
    campaign, _ = Campaign.objects.get_or_create(
        year=YEAR,
        defaults=dict(
            title="基准测试批次",
            eligible_from=date(2023, 9, 1),
            eligible_until=date(2024, 8, 24),
            membership_deadline=now,
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=1),
            grassroots_review_until=now + timedelta(days=2),
            district_review_until=now + timedelta(days=3),
            city_review_until=now + timedelta(days=4),
            quota=4126,
            application_cap=N,
            amount_cny="1500.00",
        ),
    )
    union = Union.objects.filter(name="基准测试工会").first()
    if union is None:
        union = Union(name="基准测试工会", level="grassroots")
        union.save()
    existing = Application.objects.filter(campaign=campaign).count()
    if existing != N:
        from notifications.models import Notification
        from reviews.models import AuditRecord

        AuditRecord.objects.filter(application__campaign=campaign).delete()
        Notification.objects.filter(application__campaign=campaign).delete()
        Application.objects.filter(campaign=campaign).delete()
        Member.objects.filter(union=union).delete()
        from stdnum.cn import ric

        members = []
        for i in range(N):
            body = f"440106{19800101 + (i // 900) * 100 + (i % 28)}{i % 900 + 100:03d}"
            idn = body + ric.calc_check_digit(body)
            members.append(
                Member(
                    name=f"基准{i:05d}",
                    id_number=idn,
                    id_hmac=blind_index(idn),
                    mobile=f"177{i:08d}",
                    union=union,
                    status="active",
                    active_since=now - timedelta(days=400),
                )
            )
        Member.objects.bulk_create(members, batch_size=1000)
        members = list(Member.objects.filter(union=union).order_by("pk"))
        apps = []
        for i, m in enumerate(members):
            kind = "self_study" if i % 2 else "enrollment"
            apps.append(
                Application(
                    campaign=campaign,
                    member=m,
                    union=union,
                    name=m.name,
                    id_number=m.id_number,
                    id_hmac=m.id_hmac,
                    mobile=m.mobile,
                    kind=kind,
                    study_number=f"B{i:07d}",
                    worker_group="none",
                    hukou="non_agricultural",
                    job_position="操作工",
                    bank_account="6222021001115227281",
                    bank_account_hmac=blind_index("6222021001115227281", purpose="account"),
                    bank_account_last4="7281",
                    bank_branch="广州支行",
                    union_contact_phone="020-83000000",
                    status="pending_chsi",
                    queue_number=i + 1,
                )
            )
        Application.objects.bulk_create(apps, batch_size=1000)
    apps = Application.objects.filter(campaign=campaign).order_by("queue_number")
    records = {"students": [], "certificates": []}
    for a in apps.only("name", "id_number", "kind", "study_number"):
        records["certificates" if a.kind == "self_study" else "students"].append(
            {
                "number": a.study_number,
                "name": a.name,
                "id_number": a.id_number,
                "institution": "广东开放大学",
                "major": "工商管理",
                "level": "本科",
                "learning_form": "自学考试" if a.kind == "self_study" else "成人高等教育",
                "date": "2024-03-01",
                "status": "毕业" if a.kind == "self_study" else "在籍",
            }
        )
    return campaign, records


def _reset(campaign):
    from reviews.models import AuditRecord
    from subsidy.models import Application

    AuditRecord.objects.filter(application__campaign=campaign).delete()
    Application.objects.filter(campaign=campaign).update(
        status="pending_chsi",
        registry_attempts=0,
        registry_checked_at=None,
        registry_dispatched_at=None,
        registry_outcome="",
        registry_reason="",
        registry_record=None,
    )


def _start_worker(env, concurrency, log):
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("celery")), "-A", "config", "worker"]
        + ["--pool", "threads", "--concurrency", str(concurrency), "-l", "warning"]
        + ["-n", f"bench{len(log)}-{time.time_ns()}@%h"]
        + ["--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT,
        env=env,
        stdout=log[-1],
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_workers_ready(app, n, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            replies = app.control.ping(timeout=0.5) or []
        except Exception:
            replies = []
        if len(replies) >= n:
            return
        time.sleep(0.3)
    raise RuntimeError("bench workers did not start")


def _cpu_seconds(pid) -> float:
    """user + system CPU time of a process so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _connections(dbname):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [dbname])
        return cur.fetchone()[0]


def run(report):
    import redis
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from config.celery import app as celery_app
    from registry import pipeline
    from subsidy.models import Application

    t_setup = time.monotonic()
    campaign, records = _setup()
    data = Path(tempfile.mkdtemp()) / "bench-registry.json"
    data.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    sim = subprocess.Popen(
        [sys.executable, "-m", "simulators.registry.simulator", "--port", str(SIM_PORT)]
        + ["--data", str(data), "--latency-ms", str(LATENCY_MS)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    sim_url = sim.stdout.readline().strip().rsplit(" ", 1)[-1]
    print(f"   setup {time.monotonic() - t_setup:.1f} s; simulator {sim_url}", flush=True)
    broker = settings.CELERY_BROKER_URL
    env = dict(
        os.environ,
        REGISTRY_URL=sim_url,
        REGISTRY_USER="",
        REGISTRY_PASSWORD="",
        REGISTRY_RATE_LIMIT="100000/s",  # the limiter stays in the path, but does not bind
        REGISTRY_TIMEOUT="10",
        AXES_ENABLED="0",
    )
    dbname = connection.settings_dict["NAME"]
    logs = []
    try:
        for c in CONCURRENCIES:
            _reset(campaign)
            # the check queue, and the hand-off's list an earlier bench left (bench_intake
            # runs no worker): its ids would land on this bench's applications
            redis.Redis.from_url(broker).delete(
                "celery", "registry-dispatch", pipeline.PENDING_KEY, pipeline.DRAIN_FLAG_KEY
            )
            logs.append(open(Path(tempfile.gettempdir()) / f"bench-registry-w{c}.log", "wb"))
            workers = [_start_worker(env, c, logs) for _ in range(2)]
            try:
                _wait_workers_ready(celery_app, 2)
                sample = min(SAMPLES.get(c, N), N)
                ids = list(
                    Application.objects.filter(campaign=campaign)
                    .order_by("queue_number")
                    .values_list("pk", flat=True)[:sample]
                )
                Application.objects.filter(pk__in=ids).update(submitted_at=timezone.now())
                cpu0 = sum(_cpu_seconds(w.pid) for w in workers)
                t0 = time.monotonic()
                pipeline.send_checks(ids)
                t_sent = time.monotonic() - t0
                peak = 0
                while True:
                    left = Application.objects.filter(pk__in=ids, status="pending_chsi").count()
                    peak = max(peak, _connections(dbname))
                    if left == 0 or time.monotonic() - t0 > 400:
                        break
                    time.sleep(0.25)
                elapsed = time.monotonic() - t0
                decided = sample - left
                cpu = sum(_cpu_seconds(w.pid) for w in workers) - cpu0
                load = os.getloadavg()[0]
                rate = decided / elapsed
                from registry.sla import durations

                d = durations(campaign)
                p50 = d[len(d) // 2] if d else 0
                p95 = d[int(len(d) * 0.95) - 1] if d else 0
                note = f"2 workers × {c} threads; publish {t_sent:.1f} s; peak PG conns {peak}"
                if sample != N:
                    report.row(
                        "registry",
                        f"c={c}: {N} decided (extrapolated from {sample})",
                        N / rate,
                        "s",
                        "≤ 300 s",
                        note + f"; sample of {sample} took {elapsed:.1f} s",
                    )
                else:
                    report.row("registry", f"c={c}: all {N} decided", elapsed, "s", "≤ 300 s", note)
                report.row("registry", f"c={c}: throughput", rate, "app/s", "", "")
                report.row(
                    "registry",
                    f"c={c}: worker CPU per check",
                    cpu / max(decided, 1) * 1000,
                    "ms",
                    "",
                    f"both workers' user+sys; machine load average {load:.1f} on "
                    f"{os.cpu_count()} cores",
                )
                report.row(
                    "registry",
                    f"c={c}: time to result p50 / p95",
                    f"{p50:.1f} / {p95:.1f}",
                    "s",
                    "≤ 7200 s",
                    "from dispatch (all queued at once)",
                )
                if left:
                    report.row("registry", f"c={c}: NOT decided", left, "apps", "0", "timed out")
            finally:
                for w in workers:
                    try:
                        os.killpg(w.pid, signal.SIGTERM)
                    except ProcessLookupError:
                        pass
                for w in workers:
                    try:
                        w.wait(30)
                    except subprocess.TimeoutExpired:
                        os.killpg(w.pid, signal.SIGKILL)
    finally:
        sim.terminate()
        sim.wait(5)
        for f in logs:
            f.close()
        _reset(campaign)
