"""Several workers (and the sweeper) grabbing the same outbox row at once: one sends."""

import threading

import pytest
from django.db import connection

from notifications import channels
from notifications.models import DeliveryStatus, Notification
from notifications.services import delivery
from tests.notifications.conftest import RecordingChannel

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def _race(row, n=4):
    barrier = threading.Barrier(n)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(delivery.deliver(row.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.fixture
def slow_channel():
    fake = RecordingChannel(delay=0.2)
    channels.OVERRIDES["sms"] = fake
    yield fake
    channels.OVERRIDES.clear()


@pytest.fixture
def row(db):
    return Notification.objects.create(
        kind="applicant_status", channel="sms", recipient="13900000001", text="并发测试"
    )


def test_parallel_workers_send_once(row, slow_channel):
    results = _race(row)
    assert sorted(results).count(DeliveryStatus.SENT) == 1
    assert results.count("skipped") == 3
    assert len(slow_channel.sent) == 1


def test_control_without_the_claim_lock_the_race_sends_twice(row, slow_channel, hooks):
    hooks.set(notification_claim_locking=False, notification_claim_delay=0.05)
    _race(row)
    assert len(slow_channel.sent) > 1  # the protection is what prevents duplicates
