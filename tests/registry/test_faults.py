"""SPEC §5: registry down, erroring, hanging or talking nonsense → the application stays
pending_chsi, the check is retried, and it is decided (once) after the registry recovers.
Also: the broker down at submission → the sweeper picks the application up."""

import logging
import socket
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from config.celery import app as celery_app
from registry import pipeline
from registry.pipeline import dispatch_check
from registry.tasks import backoff, check_registry
from reviews.models import AuditRecord
from subsidy.models import Application, ApplicationStatus
from tests.registry.conftest import add_record

pytestmark = pytest.mark.django_db

FAULTS = {
    "down": {"mode": "down"},
    "5xx": {"mode": "error", "status": 503},
    "timeout": {"mode": "hang", "hang_seconds": 3},
    "malformed-json": {"mode": "malformed"},
}


def submit(app, capture):
    with capture(execute=True):
        with transaction.atomic():
            dispatch_check(app.pk)
    pipeline.handoff.flush()  # the hand-off thread's push, here (the rows are uncommitted)
    app.refresh_from_db()
    return app


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_fault_leaves_pending_then_sweeper_decides_after_recovery(
    sim, pending_app, django_capture_on_commit_callbacks, fault
):
    app = pending_app()
    add_record(sim, app)
    sim.control(**fault)

    submit(app, django_capture_on_commit_callbacks)
    assert app.status == ApplicationStatus.PENDING_CHSI
    assert app.registry_attempts == 1
    assert app.registry_checked_at is None and app.registry_outcome == ""
    assert app.registry_dispatched_at is not None
    assert not AuditRecord.objects.filter(application=app).exists()

    # the registry recovers; the sweeper finds the check without a live task
    sim.control(mode="ok")
    assert pipeline.sweep(now=timezone.now() + timedelta(hours=1)) == 1
    app.refresh_from_db()
    assert app.status == ApplicationStatus.PENDING_GRASSROOTS
    assert app.registry_attempts == 2
    assert AuditRecord.objects.filter(application=app).count() == 1


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_task_retries_until_the_registry_answers(sim, pending_app, settings, fault):
    """Inline (eager) checks re-try immediately; a real worker waits for the backoff in
    between (test_real_worker). Two failures, then the third attempt decides."""
    settings.REGISTRY_EAGER_RETRIES = 5
    app = pending_app()
    add_record(sim, app)
    sim.control(**fault, count=2)
    check_registry.apply(args=[app.pk])
    app.refresh_from_db()
    assert app.status == ApplicationStatus.PENDING_GRASSROOTS
    assert app.registry_attempts == 3
    assert sim.state()["counters"]["lookups"] == 3
    assert AuditRecord.objects.filter(application=app).count() == 1


def test_gives_up_after_max_retries_and_stays_pending(sim, pending_app, settings, caplog):
    settings.REGISTRY_EAGER_RETRIES = 2
    app = pending_app()
    sim.control(mode="error")
    with caplog.at_level(logging.WARNING):
        check_registry.apply(args=[app.pk])
    app.refresh_from_db()
    assert app.status == ApplicationStatus.PENDING_CHSI
    assert app.registry_attempts == 3
    # the ID number never reaches the log
    assert app.id_number not in caplog.text


def test_backoff_grows_exponentially_with_jitter_and_a_cap(settings):
    settings.REGISTRY_RETRY_BASE_SECONDS = 2
    settings.REGISTRY_RETRY_MAX_SECONDS = 60
    for n, full in [(0, 2), (1, 4), (3, 16), (10, 60)]:
        values = {round(backoff(n), 6) for _ in range(50)}
        assert all(full * 0.5 <= v <= full for v in values)
        assert len(values) > 1  # jitter


def test_sweeper_leaves_fresh_dispatches_and_decided_applications_alone(
    sim, pending_app, django_capture_on_commit_callbacks
):
    waiting = pending_app()
    Application.objects.filter(pk=waiting.pk).update(registry_dispatched_at=timezone.now())
    decided = pending_app(status=ApplicationStatus.PENDING_GRASSROOTS)
    Application.objects.filter(pk=decided.pk).update(
        registry_dispatched_at=timezone.now() - timedelta(days=1)
    )
    just_submitted = pending_app()  # never dispatched, but inside the grace period
    ids = set(pipeline.stranded().values_list("pk", flat=True))
    assert waiting.pk not in ids and decided.pk not in ids and just_submitted.pk not in ids
    later = timezone.now() + timedelta(hours=1)
    assert set(pipeline.stranded(now=later).values_list("pk", flat=True)) == {
        waiting.pk,
        just_submitted.pk,
    }


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _use_broker(url):
    """Point this process's Celery app at another broker (the connection pools are rebuilt)."""
    old = celery_app.conf.broker_write_url
    celery_app.conf.broker_url = celery_app.conf.broker_write_url = url
    celery_app.conf.broker_read_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    return old


@pytest.mark.real_celery
def test_broker_down_at_submission_then_sweeper_picks_it_up(
    sim, pending_app, django_capture_on_commit_callbacks, caplog
):
    app = pending_app()
    add_record(sim, app)
    old = _use_broker(f"redis://127.0.0.1:{_closed_port()}/0")
    try:
        with caplog.at_level(logging.WARNING):
            submit(app, django_capture_on_commit_callbacks)  # the submission itself succeeds
    finally:
        _use_broker(old)
    assert "could not queue registry checks" in caplog.text
    assert app.status == ApplicationStatus.PENDING_CHSI
    assert app.registry_dispatched_at is None  # known never to have been sent
    assert app.registry_attempts == 0

    # the broker is back; the periodic sweeper (run inline here) finds and checks it
    celery_app.conf.task_always_eager = True
    assert pipeline.sweep(now=timezone.now() + timedelta(minutes=2)) == 1
    app.refresh_from_db()
    assert app.status == ApplicationStatus.PENDING_GRASSROOTS
    assert AuditRecord.objects.filter(application=app).count() == 1
