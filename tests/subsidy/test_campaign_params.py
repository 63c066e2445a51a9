"""Campaign parameters are data (SPEC §3): the 2024 fixture loads, and the helpers answer
"is intake open now" (R4) and "which review level may act now"."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from subsidy.models import ApplicationStatus, Campaign
from tests.factories import ApplicationFactory, CampaignFactory
from unions.models import ReviewerLevel

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def c2024(db):
    call_command("loaddata", "campaign_2024", verbosity=0)
    return Campaign.objects.get(year=2024)


def test_the_2024_fixture_holds_the_notices_values(c2024):
    assert (c2024.eligible_from, c2024.eligible_until) == (date(2023, 9, 1), date(2024, 8, 24))
    assert c2024.membership_deadline == at(2024, 8, 19, 10)
    assert (c2024.opens_at, c2024.closes_at) == (at(2024, 8, 19, 10), at(2024, 8, 24, 10))
    assert c2024.grassroots_review_until == at(2024, 8, 26, 23, 59, 59)
    assert c2024.district_review_until == at(2024, 9, 1, 23, 59, 59)
    assert c2024.city_review_until == at(2024, 9, 6, 23, 59, 59)
    assert (c2024.quota, c2024.application_cap) == (4126, 6000)
    assert c2024.amount_cny == Decimal("1500.00") and c2024.publication_days == 5


def test_loading_the_fixture_twice_keeps_one_campaign(c2024):
    call_command("loaddata", "campaign_2024", verbosity=0)
    assert Campaign.objects.filter(year=2024).count() == 1


def test_intake_window_is_half_open(c2024):
    assert not c2024.intake_open(at(2024, 8, 19, 9, 59, 59))
    assert c2024.intake_open(at(2024, 8, 19, 10))
    assert c2024.intake_open(at(2024, 8, 24, 9, 59, 59))
    assert not c2024.intake_open(at(2024, 8, 24, 10))


def test_intake_closes_when_the_application_cap_is_reached(c2024):
    c2024.applicant_count = 5999
    assert c2024.intake_open(at(2024, 8, 20))
    c2024.applicant_count = 6000
    assert not c2024.intake_open(at(2024, 8, 20))


@pytest.mark.django_db
def test_intake_closes_when_city_approvals_reach_the_quota(tree):
    campaign = CampaignFactory(quota=2)
    ApplicationFactory(
        campaign=campaign, status=ApplicationStatus.APPROVED, city_approved_at=timezone.now()
    )
    assert campaign.intake_open()
    revoked = ApplicationFactory(
        campaign=campaign, status=ApplicationStatus.REVOKED, city_approved_at=timezone.now()
    )
    assert campaign.intake_open(), "a revoked grant does not count towards the quota"
    ApplicationFactory(
        campaign=campaign, status=ApplicationStatus.FUNDED, city_approved_at=timezone.now()
    )
    assert campaign.quota_reached() and not campaign.intake_open()
    assert revoked.pk


@pytest.mark.django_db
def test_city_staff_can_close_and_reopen_intake_by_hand():
    campaign = CampaignFactory()
    campaign.intake_closed_manually = True
    assert not campaign.intake_open()
    campaign.intake_closed_manually = False
    assert campaign.intake_open()


def test_each_review_level_acts_only_inside_its_window(c2024):
    g, d, c = ReviewerLevel.GRASSROOTS, ReviewerLevel.DISTRICT, ReviewerLevel.CITY
    assert c2024.review_levels_open(at(2024, 8, 19, 9)) == []
    assert c2024.review_levels_open(at(2024, 8, 20)) == [g, d, c]
    assert c2024.review_open(g, at(2024, 8, 26, 23, 59, 59))
    assert not c2024.review_open(g, at(2024, 8, 27))
    assert c2024.review_levels_open(at(2024, 8, 27)) == [d, c]
    assert c2024.review_levels_open(at(2024, 9, 2)) == [c]
    assert c2024.review_levels_open(at(2024, 9, 7)) == []
    assert c2024.review_deadline(d) == at(2024, 9, 1, 23, 59, 59)


def test_publication_lasts_the_campaigns_publication_days(c2024):
    assert not c2024.publication_open(at(2024, 9, 10))
    c2024.published_at = at(2024, 9, 10, 9)
    assert c2024.publication_open(at(2024, 9, 15, 8, 59))
    assert not c2024.publication_open(at(2024, 9, 15, 9))
    assert c2024.publication_ends_at == at(2024, 9, 10, 9) + timedelta(days=5)


@pytest.mark.django_db
def test_current_campaign_is_the_newest_that_has_opened(c2024):
    assert Campaign.current() == c2024
    open_now = CampaignFactory()
    assert Campaign.current() == open_now
    CampaignFactory(
        year=open_now.year + 1,
        opens_at=timezone.now() + timedelta(days=300),
        closes_at=timezone.now() + timedelta(days=305),
    )
    assert Campaign.current() == open_now
