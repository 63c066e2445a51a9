"""Allocation under concurrency (R2, R3) on PostgreSQL: runs triggered from several workers at
once end in the same state as one run. The control case switches the campaign lock off
(the test hook `payouts_allocation_lock`) and shows the race: a run whose snapshot predates
a city approval writes after a newer run and leaves more than `quota` funded.

The first run's connection rewrites its ranking statement on the way to PostgreSQL so that it
sleeps inside itself (`testhooks.pause_inside_statement`; the production SQL carries no
delay): its snapshot stays old while the others start — deterministic timing, no luck.
"""

import threading
import time

import pytest
from django.db import connection, connections
from django.utils import timezone

import testhooks
from payouts.services.allocation import allocate
from subsidy.models import Application, ApplicationStatus
from tests.payouts.conftest import make_app

S = ApplicationStatus

pytestmark = [
    pytest.mark.django_db(transaction=True),
]


def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.fail("the concurrency tests need PostgreSQL: set DATABASE_URL")


# The head of the ranking (payouts.services.allocation): its statement's first filter.
RANKING = "stage = 'approved'"


def _in_thread(fn, errors, pause=0.0):
    def run():
        try:
            if pause:
                wrapper = testhooks.pause_inside_statement(RANKING, pause)
                with connection.execute_wrapper(wrapper):
                    fn()
            else:
                fn()
        except Exception as exc:  # surfaced by the test
            errors.append(exc)
        finally:
            connections.close_all()

    t = threading.Thread(target=run)
    t.start()
    return t


def _scenario(campaign, tree):
    """Quota 2. A and B approved, not yet allocated; X submitted earlier, approved while the
    first run is still ranking; then three more workers allocate at once."""
    campaign.quota = 2
    campaign.save()
    a = make_app(campaign, tree.a1, 20)
    b = make_app(campaign, tree.a1, 30)
    x = make_app(campaign, tree.a1, 10, status=S.PENDING_CITY)
    errors = []
    first = _in_thread(lambda: allocate(campaign.pk), errors, pause=1.5)
    time.sleep(0.4)  # the first run has taken its snapshot and sleeps inside its statement
    Application.objects.filter(pk=x.pk).update(status=S.APPROVED, city_approved_at=timezone.now())
    others = [_in_thread(lambda: allocate(campaign.pk), errors) for _ in range(3)]
    for t in [first, *others]:
        t.join(timeout=30)
    assert not errors, errors
    return a, b, x


def _state(campaign):
    return dict(Application.objects.filter(campaign=campaign).values_list("pk", "status"))


def test_concurrent_allocations_end_as_one_run(campaign, tree, reviewers):
    _needs_postgres()
    a, b, x = _scenario(campaign, tree)
    state = _state(campaign)
    assert (state[x.pk], state[a.pk], state[b.pk]) == (S.FUNDED, S.FUNDED, S.WAITLISTED)
    # one more run (what a single run would produce) changes nothing
    assert allocate(campaign.pk).moved_count == 0
    assert _state(campaign) == state
    # and every move was audited exactly once per change: b went funded → waitlisted once
    from reviews.models import AuditRecord

    assert AuditRecord.objects.filter(application=b, to_status=S.WAITLISTED).count() == 1


def test_control_without_the_lock_the_race_overfills_the_quota(campaign, tree, hooks):
    _needs_postgres()
    hooks.set(payouts_allocation_lock=False)
    a, b, x = _scenario(campaign, tree)
    funded = Application.objects.filter(campaign=campaign, status=S.FUNDED).count()
    assert funded > campaign.quota  # R2 broken: the stale first run wrote last
