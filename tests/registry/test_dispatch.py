"""The hand-off from a committed submission to the registry check (pipeline module docstring):
one Redis round trip per commit, one drain task per burst, nothing stranded when a commit
races a running drain, and Redis down at commit leaves the application to the sweeper.

Against a real Redis broker (a database of this xdist worker's own) and no worker: the tests
read the broker's queues and run the drain themselves — its checks inline, or read back as
the messages it published. test_real_worker has the same journey through a worker."""

import base64
import json
import logging
import socket
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.celery import app as celery_app
from registry import conf, pipeline
from registry.pipeline import DRAIN_FLAG_KEY, PENDING_KEY, dispatch_check
from registry.tasks import drain_registry_queue, sweep_pending_registry_checks
from subsidy.models import Application, ApplicationStatus
from tests.registry.conftest import add_record, own_broker_url
from tests.registry.test_faults import _use_broker

pytestmark = [pytest.mark.real_celery, pytest.mark.django_db]

DRAIN_QUEUE = "registry-dispatch"
KEYS = ("celery", DRAIN_QUEUE, PENDING_KEY, DRAIN_FLAG_KEY)


@pytest.fixture
def broker():
    """Celery pointed at our own broker database, its queues and the pending list empty."""
    if not settings.REDIS_URL:
        pytest.skip("needs Redis")
    url = own_broker_url()
    r = redis.Redis.from_url(url)
    r.delete(*KEYS)
    old = _use_broker(url)
    yield r
    _use_broker(old)
    r.delete(*KEYS)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Submit like intake does: registry_dispatched_at written in the transaction, the
    dispatch registered in it, and run when it commits."""

    def submit(app):
        with django_capture_on_commit_callbacks(execute=True):
            with transaction.atomic():
                now = timezone.now()
                Application.objects.filter(pk=app.pk).update(registry_dispatched_at=now)
                dispatch_check(app.pk, marked_at=now)
        assert pipeline.handoff.pending() == [(app.pk, now)]  # the request only appends
        assert pipeline.handoff.flush() == 1  # what the hand-off thread does
        app.refresh_from_db()
        return app

    return submit


def pending_ids(r) -> list[int]:
    return [int(pk) for pk in r.lrange(PENDING_KEY, 0, -1)]


def messages(r, queue) -> list[dict]:
    return [json.loads(m) for m in r.lrange(queue, 0, -1)]


def task_args(message) -> list:
    return json.loads(base64.b64decode(message["body"]))[0]


def run_checks_inline():
    """From here on, the checks the drain sends run in this process (eager)."""
    celery_app.conf.task_always_eager = True


def test_a_burst_of_submissions_publishes_one_drain_and_every_application_is_checked(
    broker, sim, pending_app, commit
):
    apps = [pending_app() for _ in range(30)]
    for app in apps:
        add_record(sim, app)
    for app in apps:
        commit(app)

    assert pending_ids(broker) == [app.pk for app in apps]
    drains = messages(broker, DRAIN_QUEUE)
    assert len(drains) == 1  # not 30
    assert drains[0]["headers"]["task"] == "subsidy.tasks.drain_registry_queue"
    assert drains[0]["headers"]["eta"]  # a short countdown: the burst shares it
    assert broker.llen("celery") == 0  # no check was published by a commit

    run_checks_inline()
    assert drain_registry_queue.apply().get() == len(apps)  # what a worker does with it
    assert pending_ids(broker) == [] and not broker.exists(DRAIN_FLAG_KEY)
    for app in apps:
        app.refresh_from_db()
        assert app.status == ApplicationStatus.PENDING_GRASSROOTS
    assert sim.state()["counters"]["lookups"] == len(apps)


def test_a_commit_after_the_drain_started_schedules_the_next_drain(broker, pending_app):
    """Commits racing a running drain: one before the drain's flag DELETE is popped by it;
    one after the DELETE — here at the worst moment, after its last pop came back empty —
    publishes the next drain."""
    apps = [pending_app() for _ in range(3)]
    queue = pipeline.dispatch_queue()
    assert queue.enqueue([apps[0].pk]) is True  # the first commit publishes a drain
    assert queue.enqueue([apps[1].pk]) is False  # the next shares it
    broker.delete(DRAIN_QUEUE)  # a worker took that drain and starts running it now

    with _commit_when_the_drain_finds_the_list_empty(queue, apps[2].pk):
        assert pipeline.drain() == 2

    assert sorted(task_args(m)[0] for m in messages(broker, "celery")) == [apps[0].pk, apps[1].pk]
    assert pending_ids(broker) == [apps[2].pk]
    assert len(messages(broker, DRAIN_QUEUE)) == 1  # the late commit's own drain
    assert pipeline.drain() == 1
    assert sorted(task_args(m)[0] for m in messages(broker, "celery")) == [a.pk for a in apps]


def test_control_popping_before_deleting_the_flag_strands_a_late_commit(broker, pending_app):
    """The order the module docstring rules out, with the same timing: the late commit finds
    the flag still set, publishes nothing, and then the flag goes — nobody will drain it."""
    first, late = pending_app(), pending_app()
    queue = pipeline.dispatch_queue()
    assert queue.enqueue([first.pk]) is True
    broker.delete(DRAIN_QUEUE)

    with _commit_when_the_drain_finds_the_list_empty(queue, late.pk):
        while queue.client.lpop(PENDING_KEY, 100):
            pass
        queue.client.delete(DRAIN_FLAG_KEY)

    assert pending_ids(broker) == [late.pk]
    assert broker.llen(DRAIN_QUEUE) == 0 and not broker.exists(DRAIN_FLAG_KEY)  # stranded


@contextmanager
def _commit_when_the_drain_finds_the_list_empty(queue, application_id):
    """The worst moment for a commit: right after the drain's pop came back empty."""
    real, done = queue.client, []

    class Client:
        def __getattr__(self, name):
            return getattr(real, name)

        def lpop(self, *args):
            popped = real.lpop(*args)
            if not popped and not done:
                done.append(application_id)
                queue.enqueue([application_id])
            return popped

    queue.client = Client()
    try:
        yield
    finally:
        queue.client = real
    assert done, "the drain never found the list empty"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_redis_down_at_commit_logs_and_leaves_the_application_to_the_sweeper(
    broker, pending_app, commit, caplog
):
    app = pending_app()
    _use_broker(f"redis://127.0.0.1:{_closed_port()}/0")
    start = time.monotonic()
    with caplog.at_level(logging.WARNING):
        commit(app)  # the submission itself succeeds
    assert time.monotonic() - start < 1.5  # refused at once, no client-side backoff
    assert "could not queue registry checks for 1 application(s)" in caplog.text
    assert app.status == ApplicationStatus.PENDING_CHSI
    assert app.registry_dispatched_at is None  # known never to have been queued
    later = timezone.now() + timedelta(seconds=conf.get("REGISTRY_SWEEP_GRACE_SECONDS") + 1)
    assert app.pk in set(pipeline.stranded(now=later).values_list("pk", flat=True))


def test_a_drain_that_cannot_be_published_is_tried_again_by_the_next_commit(
    broker, pending_app, commit, caplog, monkeypatch
):
    first, second = pending_app(), pending_app()

    def broker_refuses(*args, **kwargs):
        raise ConnectionError("broker unavailable")

    with monkeypatch.context() as m:
        m.setattr(drain_registry_queue, "apply_async", broker_refuses)
        with caplog.at_level(logging.WARNING):
            commit(first)
    assert "could not queue registry checks" in caplog.text
    assert first.registry_dispatched_at is None  # the sweeper's, should nothing else drain it
    assert not broker.exists(DRAIN_FLAG_KEY)  # so the next commit publishes a drain

    commit(second)
    assert second.registry_dispatched_at is not None
    assert pending_ids(broker) == [first.pk, second.pk]
    assert broker.llen(DRAIN_QUEUE) == 1


def test_the_periodic_sweep_drains_a_list_whose_drain_was_lost(broker, pending_app):
    apps = [pending_app() for _ in range(3)]
    broker.rpush(PENDING_KEY, *[app.pk for app in apps])  # pushed; their drain never ran

    sweep_pending_registry_checks.apply()

    checks = messages(broker, "celery")
    assert [m["headers"]["task"] for m in checks] == ["subsidy.tasks.check_registry"] * 3
    assert sorted(task_args(m)[0] for m in checks) == sorted(app.pk for app in apps)
    assert pending_ids(broker) == []
