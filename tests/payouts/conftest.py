"""Fixtures for the payout tests: city-approved applications with chosen submission times."""

from datetime import timedelta

import pytest
from django.utils import timezone

from subsidy.models import ApplicationStatus
from tests.factories import ApplicationFactory, MemberFactory

S = ApplicationStatus
BASE = timezone.now() - timedelta(days=2)


def make_app(campaign, union, minute, status=S.APPROVED, approved_minute=None, **kw):
    """An application submitted `minute` minutes after BASE, city-approved later."""
    member = MemberFactory(union=union, **kw.pop("member_kw", {}))
    approved_at = None
    if status in (S.APPROVED, S.FUNDED, S.WAITLISTED, S.PAID, S.PAYMENT_FAILED, S.REVOKED):
        approved_at = BASE + timedelta(days=1, minutes=approved_minute or minute)
    return ApplicationFactory(
        campaign=campaign,
        member=member,
        status=status,
        submitted_at=BASE + timedelta(minutes=minute),
        city_approved_at=approved_at,
        **kw,
    )


@pytest.fixture
def small_campaign(campaign):
    campaign.quota = 3
    campaign.save()
    return campaign


@pytest.fixture
def city_user(reviewers):
    return reviewers.city.user


@pytest.fixture
def city_client(client, city_user):
    client.force_login(city_user)
    return client


@pytest.fixture
def city_api(city_user):
    from rest_framework.test import APIClient

    c = APIClient()
    c.force_authenticate(city_user)
    return c


def end_intake(campaign):
    """The application window has ended (R8: the list can be determined once nothing is
    pending either). Review windows stay open."""
    from subsidy.models import Campaign

    Campaign.objects.filter(pk=campaign.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    campaign.refresh_from_db()
    return campaign


def statuses(campaign):
    return dict(campaign.applications.values_list("pk", "status"))


def luhn_account(n: int, prefix="622202") -> str:
    body = f"{prefix}{n:012d}"
    total = 0
    for i, d in enumerate(reversed(body)):
        k = int(d)
        if i % 2 == 0:
            k *= 2
            if k > 9:
                k -= 9
        total += k
    return body + str((10 - total % 10) % 10)


def valid_id_number(n: int | None = None) -> str:
    """A GB 11643-valid ID number (tests.factories.make_id_number's are valid: its
    calc_check_digit call passes a placeholder check digit, as stdnum expects)."""
    from tests.factories import make_id_number

    return make_id_number(n)
