"""Property-based test (hypothesis) of the allocation rules over random event sequences:
submissions, rejections at every level, resubmissions, city approvals in any order,
revocations, intake closing, the city's deadline passing, publication (refused exactly while
R8 says so), payment and a second campaign. After every step:

- funded ≤ quota (R2);
- funded = the first `quota` by rank among the city-approved, non-revoked (R3, R7);
- no city-rejected member has a later attempt in that campaign (R6);
- distinct applicants ≤ cap, and the counter agrees (R1);
- at most one active application per member and campaign (R6);
- nobody is granted twice across campaigns (R5).
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from payouts.services.publication import readiness
from subsidy.models import RETRYABLE_STATUSES, Application, ApplicationStatus, Campaign
from tests.factories import CampaignFactory, MemberFactory
from tests.payouts import events

S = ApplicationStatus
GRANTED = (S.FUNDED, S.PAID, S.PAYMENT_FAILED)
CITY_APPROVED = (S.APPROVED, S.FUNDED, S.WAITLISTED, S.PAID, S.PAYMENT_FAILED)
N_MEMBERS = 7


@pytest.mark.django_db
def test_allocation_rules_hold_after_every_event(tree, reviewers):
    actors = type(
        "Actors",
        (),
        dict(
            grassroots=reviewers.grassroots_a.user,
            district=reviewers.district_yuexiu.user,
            city=reviewers.city.user,
        ),
    )

    class Allocation(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            # Each example runs inside a savepoint that teardown rolls back.
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
            year = timezone.localdate().year
            self.campaigns = [
                CampaignFactory(year=year - 1, quota=2, application_cap=5),
                CampaignFactory(year=year, quota=2, application_cap=5),
            ]
            self.current = 0
            self.members = [MemberFactory(union=tree.a1) for _ in range(N_MEMBERS)]

        def teardown(self):
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

        @property
        def campaign(self):
            return Campaign.objects.get(pk=self.campaigns[self.current].pk)

        def _apps(self, statuses):
            return list(
                Application.objects.filter(
                    campaign=self.campaigns[self.current], status__in=statuses
                ).order_by("queue_number")
            )

        # --- events ------------------------------------------------------------------------
        @initialize(
            submitters=st.lists(st.integers(0, N_MEMBERS - 1), min_size=3, max_size=N_MEMBERS),
            reviewed=st.integers(1, N_MEMBERS),
        )
        def opening_rush(self, submitters, reviewed):
            """A rush of submissions at opening; some reach the city queue straight away."""
            for m in submitters:
                events.submit(self.campaign, self.members[m])
            for app in self._apps([S.PENDING_CHSI])[:reviewed]:
                for _ in range(3):  # registry → grassroots → district, or refused
                    result = events.approve(app, actors)
                    if result == S.PENDING_CITY or result not in events.APPROVE:
                        break

        @rule(m=st.integers(0, N_MEMBERS - 1))
        def submit(self, m):
            events.submit(self.campaign, self.members[m])

        @rule(i=st.integers(0, 50))
        def approve(self, i):
            pending = self._apps(list(events.APPROVE))
            if pending:
                events.approve(pending[i % len(pending)], actors)

        @rule(i=st.integers(0, 50))
        def review_up_to_city(self, i):
            """Registry, grassroots and district pass one application (so city approvals of
            several rows can happen in any order)."""
            pending = self._apps([S.PENDING_CHSI, S.PENDING_GRASSROOTS, S.PENDING_DISTRICT])
            if pending:
                app = pending[i % len(pending)]
                for _ in range(3):  # registry → grassroots → district, or refused
                    result = events.approve(app, actors)
                    if result == S.PENDING_CITY or result not in events.APPROVE:
                        break

        @rule(i=st.integers(0, 50))
        def reject(self, i):
            pending = self._apps(list(events.REJECT))
            if pending:
                events.reject(pending[i % len(pending)], actors)

        @rule(picks=st.lists(st.integers(0, 50), min_size=1, max_size=4))
        def city_approve_any_order(self, picks):
            """City staff approve waiting rows in an arbitrary order (not queue order)."""
            for i in picks:
                waiting = self._apps([S.PENDING_CITY])
                if waiting:
                    events.approve(waiting[i % len(waiting)], actors)

        @rule(i=st.integers(0, 50))
        def revoke(self, i):
            funded = self._apps([S.FUNDED])
            if funded:
                events.revoke(funded[i % len(funded)], actors)

        @rule()
        def close_intake(self):
            Campaign.objects.filter(pk=self.campaign.pk).update(intake_closed_manually=True)

        @rule()
        def city_deadline_passes(self):
            Campaign.objects.filter(pk=self.campaign.pk).update(
                city_review_until=timezone.now() - timedelta(minutes=1)
            )

        @rule()
        def city_deadline_passes_then_publish(self):
            """The usual end of the calendar: review is over, the list is determined."""
            self.city_deadline_passes()
            self.publish()

        @rule()
        def publish(self):
            ready = readiness(self.campaign)
            result = events.publish(self.campaign, actors)
            # R8: refused exactly while intake is open or a row is pending, before the city's
            # deadline
            assert (result == "review_in_progress") == ready.blocked, (result, ready)

        @rule()
        def pay_and_open_next_campaign(self):
            if self.current == 0 and self.campaign.is_published:
                events.pay_everyone(self.campaign, actors)
                self.current = 1

        # --- the rules ---------------------------------------------------------------------
        @invariant()
        def quota_and_ranking(self):
            for c in Campaign.objects.filter(pk__in=[x.pk for x in self.campaigns]):
                apps = Application.objects.filter(campaign=c)
                granted = set(apps.filter(status__in=GRANTED).values_list("pk", flat=True))
                assert len(granted) <= c.quota
                ranked = list(
                    apps.filter(status__in=CITY_APPROVED)
                    .order_by("submitted_at", "city_approved_at", "queue_number")
                    .values_list("pk", flat=True)
                )
                assert granted == set(ranked[: c.quota]), (granted, ranked)

        @invariant()
        def city_rejection_ends_the_campaign(self):
            for c in self.campaigns:
                for member_id, queue in Application.objects.filter(
                    campaign=c, status=S.CITY_REJECTED
                ).values_list("member_id", "queue_number"):
                    assert not Application.objects.filter(
                        campaign=c, member_id=member_id, queue_number__gt=queue
                    ).exists()

        @invariant()
        def cap_and_one_active_application(self):
            for c in Campaign.objects.filter(pk__in=[x.pk for x in self.campaigns]):
                apps = Application.objects.filter(campaign=c)
                distinct = apps.values("member").distinct().count()
                assert distinct <= c.application_cap
                assert distinct == c.applicant_count
                active = Counter(
                    apps.exclude(status__in=RETRYABLE_STATUSES).values_list("member", flat=True)
                )
                assert all(n <= 1 for n in active.values())

        @invariant()
        def never_granted_twice(self):
            granted = Counter(
                Application.objects.filter(status__in=GRANTED).values_list("id_hmac", flat=True)
            )
            assert all(n <= 1 for n in granted.values()), granted

    run_state_machine_as_test(
        Allocation,
        settings=settings(
            max_examples=int(__import__("os").environ.get("HYPOTHESIS_EXAMPLES", "10")),
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
