"""Real Celery: a worker process (threads pool) against Redis and the test database, the
simulator as its own process. The happy path, retries with backoff, and a worker killed
(SIGKILL) in the middle of a check — the application is decided exactly once."""

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.utils import timezone

from registry import pipeline
from registry.pipeline import dispatch_check
from registry.tasks import check_registry
from reviews.models import AuditRecord
from subsidy.models import Application, ApplicationStatus, CommitmentLetter
from subsidy.services import intake
from tests.factories import MemberFactory
from tests.registry.conftest import add_record, own_broker_url
from tests.registry.test_faults import _use_broker

pytestmark = [pytest.mark.real_celery, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


class Worker:
    def __init__(self, env, log_path: Path):
        self.log_path = log_path
        self.log = log_path.open("ab")
        self.started = log_path.stat().st_size if log_path.exists() else 0
        self.proc = subprocess.Popen(
            [CELERY, "-A", "config", "worker", "--pool", "threads", "--concurrency", "4"]
            + ["-l", "info", "-n", f"regtest-{uuid.uuid4().hex[:8]}@%h"]
            + ["--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_ready()

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_bytes()[self.started :].decode(errors="replace")
            if " ready." in text:
                return
            if self.proc.poll() is not None:
                raise RuntimeError("worker exited:\n" + text[-3000:])
            time.sleep(0.2)
        raise RuntimeError("worker did not become ready")

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(20)
        self.log.close()


@pytest.fixture(scope="module")
def worker_env(django_db_setup, django_db_blocker, simulator_process, tmp_path_factory):
    from django.conf import settings

    if not settings.REDIS_URL or not settings.USING_POSTGRES:
        pytest.skip("needs PostgreSQL and Redis")
    import redis

    db = connection.settings_dict
    broker = own_broker_url()
    redis.Redis.from_url(broker).flushdb()
    env = dict(
        os.environ,
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        CELERY_BROKER_URL=broker,
        REDIS_URL=settings.REDIS_URL,
        REGISTRY_URL=simulator_process.url,
        REGISTRY_USER="demo",
        REGISTRY_PASSWORD="demo",
        REGISTRY_TIMEOUT="10",
        REGISTRY_RATE_LIMIT="1000/s",
        REGISTRY_RETRY_BASE_SECONDS="0.2",
        REGISTRY_RETRY_MAX_SECONDS="1",
        AXES_ENABLED="0",
        SMS_BACKEND="console",
    )
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    old = _use_broker(broker)
    holder = {"env": env, "log": tmp_path_factory.mktemp("worker") / "worker.log"}
    holder["worker"] = Worker(env, holder["log"])
    yield holder
    holder["worker"].kill(signal.SIGTERM)
    _use_broker(old)


@pytest.fixture
def worker(worker_env, sim):
    return worker_env


def wait_decided(app, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.refresh_from_db()
        if app.status != ApplicationStatus.PENDING_CHSI:
            return app
        time.sleep(0.1)
    raise AssertionError(f"application {app.pk} still pending_chsi after {timeout}s")


def submit(app):
    with transaction.atomic():
        dispatch_check(app.pk)


def test_happy_path_through_a_real_worker(worker, sim, pending_app):
    app = pending_app(kind="self_study", number="144015202405000301")
    add_record(sim, app)
    submit(app)
    wait_decided(app)
    assert app.status == ApplicationStatus.PENDING_GRASSROOTS
    assert app.registry_outcome == "passed"
    assert AuditRecord.objects.filter(application=app).count() == 1


def test_real_worker_retries_with_backoff_until_the_registry_recovers(worker, sim, pending_app):
    app = pending_app()
    add_record(sim, app)
    sim.control(mode="error", status=502, count=2)
    submit(app)
    wait_decided(app)
    assert app.status == ApplicationStatus.PENDING_GRASSROOTS
    assert app.registry_attempts == 3
    assert sim.state()["counters"]["lookups"] == 3
    assert AuditRecord.objects.filter(application=app).count() == 1


def test_worker_killed_mid_check_loses_nothing_and_decides_once(worker, sim, pending_app):
    app = pending_app()
    add_record(sim, app)
    sim.control(latency_ms=4000)  # the check will be in flight at the registry
    submit(app)
    deadline = time.monotonic() + 20
    while sim.state()["counters"]["lookups"] < 1:
        assert time.monotonic() < deadline, "the worker never asked the registry"
        time.sleep(0.05)
    worker["worker"].kill(signal.SIGKILL)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.PENDING_CHSI
    assert app.registry_attempts == 1

    sim.control(latency_ms=0)
    worker["worker"] = Worker(worker["env"], worker["log"])
    # the periodic sweeper finds the check with no live task (run now, an hour "later")
    assert pipeline.sweep(now=timezone.now() + timedelta(hours=1)) == 1
    wait_decided(app)
    assert app.status == ApplicationStatus.PENDING_GRASSROOTS

    # a late redelivery of the killed worker's message changes nothing
    check_registry.apply_async(args=[app.pk])
    deadline = time.monotonic() + 10
    while sim.state()["counters"]["lookups"] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    app.refresh_from_db()
    assert app.registry_attempts == 2  # the redelivery found it decided, asked nobody
    assert AuditRecord.objects.filter(application=app).count() == 1
    assert Application.objects.get(pk=app.pk).status == ApplicationStatus.PENDING_GRASSROOTS


def test_a_burst_of_submissions_is_checked_within_about_a_second(worker, sim, tree, campaign):
    """Through the intake service, as the API submits: the first commit of the burst
    publishes a drain (on its own queue), the burst shares it, and every application is
    decided soon after its submission."""
    members = [MemberFactory(union=tree.a1) for _ in range(12)]
    letter = CommitmentLetter.objects.get(version=1)
    numbers = [f"2024440199{n:03d}" for n in range(len(members))]
    for m, number in zip(members, numbers, strict=True):
        applicant = dict(name=m.name, id_number=m.id_number, kind="enrollment")
        add_record(sim, SimpleNamespace(study_number=number, campaign=campaign, **applicant))
    log = worker["log"]
    seen = log.stat().st_size

    apps = [
        intake.submit(m, campaign, _submission(number, letter))
        for m, number in zip(members, numbers, strict=True)
    ]

    for app in apps:
        wait_decided(app, timeout=20)
        assert app.status == ApplicationStatus.PENDING_GRASSROOTS
        # the same order as one publish per submission: well within a second when idle
        assert app.registry_checked_at - app.submitted_at < timedelta(seconds=5)
    since = log.read_bytes()[seen:].decode(errors="replace")
    received = len(re.findall(r"drain_registry_queue\[[0-9a-f-]+\] received", since))
    assert 1 <= received < len(apps)


def _submission(number, letter) -> dict:
    """What ApplicationForm.submission_data() hands intake (no photo)."""
    return {
        "kind": "enrollment",
        "study_number": number,
        "worker_group": "manufacturing",
        "hukou": "agricultural",
        "job_position": "数控车床操作工",
        "bank_account": "6222020000000000000",
        "bank_branch": "中国工商银行广州天河支行",
        "bin_unknown": True,
        "union_contact_phone": "020-83001234",
        "commitment": letter,
        "notify_opt_in": False,
        "photo": None,
    }
