"""The same check delivered twice (a redelivery after a lost ack, a sweeper resend) changes
the application once: one transition, one audit record — also when both run at once."""

import threading

import pytest
from django.db import connection

from registry import verification
from registry.tasks import check_registry
from reviews.models import AuditRecord
from subsidy.models import Application, ApplicationStatus
from tests.registry.conftest import add_record


@pytest.mark.django_db
def test_second_delivery_changes_nothing(sim, pending_app):
    app = pending_app()
    add_record(sim, app, level="研究生")
    assert check_registry.apply(args=[app.pk]).get() == "level_not_eligible"
    app.refresh_from_db()
    checked_at = app.registry_checked_at
    assert check_registry.apply(args=[app.pk]).get() == verification.ALREADY_DECIDED
    app.refresh_from_db()
    assert app.status == ApplicationStatus.CHSI_FAILED
    assert app.registry_checked_at == checked_at
    assert app.registry_attempts == 1  # the second delivery did not even ask the registry
    assert sim.state()["counters"]["lookups"] == 1
    assert AuditRecord.objects.filter(application=app).count() == 1


@pytest.mark.django_db
def test_unknown_application_is_ignored(sim):
    assert check_registry.apply(args=[987654]).get() == verification.MISSING


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the row lock is PostgreSQL's (embedded SQLite mode checks inline, one at a time)",
)
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_the_same_moment_decide_once(sim, pending_app):
    """Both copies are in flight at the registry together (200 ms latency); the row lock
    lets exactly one of them transition the application."""
    app = pending_app()
    add_record(sim, app)
    sim.control(latency_ms=200)
    barrier = threading.Barrier(2)
    results = []

    def deliver():
        try:
            barrier.wait()
            results.append(verification.check(app.pk).code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(results) == [verification.ALREADY_DECIDED, "passed"]
    assert sim.state()["counters"]["lookups"] == 2  # both really asked the registry
    assert Application.objects.get(pk=app.pk).status == ApplicationStatus.PENDING_GRASSROOTS
    assert AuditRecord.objects.filter(application=app).count() == 1
