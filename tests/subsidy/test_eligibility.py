"""The entry check (系统校核): every code of SPEC §4 step 2, all reasons at once, and the API."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from payouts.models import GrantLedger
from subsidy.models import ApplicationStatus as S
from subsidy.services import eligibility
from tests.factories import ApplicationFactory, MemberFactory


def codes(member, campaign):
    campaign.refresh_from_db()
    return [r.code for r in eligibility.check(member, campaign)]


@pytest.mark.django_db
def test_an_eligible_member_has_no_reasons(member, campaign):
    assert codes(member, campaign) == []


@pytest.mark.django_db
def test_not_member_when_membership_is_pending(tree, campaign):
    m = MemberFactory(union=tree.a1, status="pending", active_since=None)
    assert codes(m, campaign) == ["not_member"]


@pytest.mark.django_db
def test_not_member_when_membership_began_after_the_deadline(tree, campaign):
    m = MemberFactory(
        union=tree.a1, active_since=campaign.membership_deadline + timedelta(minutes=1)
    )
    assert codes(m, campaign) == ["not_member"]


@pytest.mark.django_db
def test_not_member_when_transferred_out(tree, campaign):
    m = MemberFactory(union=tree.a1, status="transferred_out")
    assert codes(m, campaign) == ["not_member"]


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["registered", "dues_paid"])
def test_union_not_eligible(tree, campaign, member, field):
    setattr(tree.a1, field, False)
    tree.a1.save()
    member.refresh_from_db()
    assert codes(member, campaign) == ["union_not_eligible"]


@pytest.mark.django_db
def test_window_closed_before_opening_and_after_closing(member, campaign):
    campaign.opens_at = timezone.now() + timedelta(hours=1)
    campaign.save()
    assert codes(member, campaign) == ["window_closed"]
    campaign.opens_at = timezone.now() - timedelta(days=5)
    campaign.closes_at = timezone.now() - timedelta(seconds=1)
    campaign.save()
    assert codes(member, campaign) == ["window_closed"]


@pytest.mark.django_db
def test_intake_closed_by_cap(member, campaign):
    campaign.application_cap = 3
    campaign.applicant_count = 3
    campaign.save()
    assert codes(member, campaign) == ["intake_closed"]


@pytest.mark.django_db
def test_intake_closed_by_quota_of_city_approvals(tree, member, campaign):
    campaign.quota = 1
    campaign.save()
    ApplicationFactory(campaign=campaign, status=S.FUNDED, city_approved_at=timezone.now())
    assert codes(member, campaign) == ["intake_closed"]


@pytest.mark.django_db
def test_intake_closed_by_hand(member, campaign):
    campaign.intake_closed_manually = True
    campaign.save()
    assert codes(member, campaign) == ["intake_closed"]


@pytest.mark.django_db
def test_already_granted_names_the_year(member, campaign):
    GrantLedger.objects.create(
        id_hmac=member.id_hmac, name=member.name, year=2022, amount_cny="1500.00", source="import"
    )
    reasons = eligibility.check(member, campaign)
    assert [r.code for r in reasons] == ["already_granted"]
    assert reasons[0].detail == "您已于 2022 年申领补助"


@pytest.mark.django_db
def test_city_rejected_ends_the_campaign(member, campaign):
    ApplicationFactory(campaign=campaign, member=member, status=S.CITY_REJECTED)
    assert codes(member, campaign) == ["city_rejected"]


@pytest.mark.django_db
@pytest.mark.parametrize("status", [S.PENDING_CHSI, S.PENDING_GRASSROOTS, S.PENDING_CITY, S.FUNDED])
def test_active_application(member, campaign, status):
    ApplicationFactory(campaign=campaign, member=member, status=status)
    assert codes(member, campaign) == ["active_application"]


@pytest.mark.django_db
@pytest.mark.parametrize("status", [S.CHSI_FAILED, S.GRASSROOTS_REJECTED, S.DISTRICT_REJECTED])
def test_a_retryable_attempt_does_not_block(member, campaign, status):
    ApplicationFactory(campaign=campaign, member=member, status=status)
    assert codes(member, campaign) == []


@pytest.mark.django_db
def test_every_reason_that_applies_is_listed(tree, campaign):
    m = MemberFactory(union=tree.a1, status="pending", active_since=None)
    tree.a1.dues_paid = False
    tree.a1.save()
    m.refresh_from_db()
    campaign.intake_closed_manually = True
    campaign.save()
    GrantLedger.objects.create(id_hmac=m.id_hmac, name=m.name, year=2023, amount_cny="1500.00")
    assert codes(m, campaign) == [
        "not_member",
        "union_not_eligible",
        "intake_closed",
        "already_granted",
    ]


@pytest.mark.django_db
def test_eligibility_api_shape(api, applicant, campaign):
    body = api.get("/api/v1/me/eligibility/").json()
    assert body["eligible"] is True and body["reasons"] == []
    assert body["campaign"]["id"] == campaign.pk
    campaign.intake_closed_manually = True
    campaign.save()
    body = api.get("/api/v1/me/eligibility/").json()
    assert body["eligible"] is False
    assert body["reasons"] == [
        {"code": "intake_closed", "detail": "申领通道已关闭（申领人数或补助名额已满）"}
    ]


@pytest.mark.django_db
def test_eligibility_api_needs_sign_in(client, campaign):
    r = client.get("/api/v1/me/eligibility/")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_signed_in_user_without_membership_is_not_member(client, campaign):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="13700000000"))
    r = client.get("/apply/")
    assert b'data-code="not_member"' in r.content


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["", "stale-or-forged", "issued"])
def test_a_form_posted_without_membership_goes_back_to_the_entry_check(client, campaign, token):
    """A signed-in phone with no membership that posts the form (an old tab, a forged POST,
    or a token the expired-form page issued) is sent to the entry check, which names the
    reason — never a 500."""
    from subsidy.web_views import FORM_TOKENS
    from tests.factories import UserFactory
    from tests.subsidy.conftest import form_data, photo

    client.force_login(UserFactory(username="13700000000"))
    if token == "issued":
        session = client.session
        session[FORM_TOKENS] = [token]
        session.save()
    r = client.post("/apply/form/", {**form_data(), "form_token": token, "card_photo": photo()})
    assert r.status_code == 302 and r.url == "/apply/"


@pytest.mark.django_db
def test_apply_page_lists_all_reasons(client, tree, campaign):
    m = MemberFactory(union=tree.a1)
    ApplicationFactory(campaign=campaign, member=m, status=S.CITY_REJECTED)
    campaign.intake_closed_manually = True
    campaign.save()
    client.force_login(m.user)
    html = client.get("/apply/").content.decode()
    assert 'data-code="intake_closed"' in html and 'data-code="city_rejected"' in html
    assert "开始申领" not in html
    # The form itself is closed to them too.
    assert client.get("/apply/form/").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("granted", [False, True])
def test_the_submissions_one_read_gives_what_the_two_reads_give(applicant, campaign, granted):
    """submission_facts (one round trip) agrees with attempt_statuses and granted_year."""
    from payouts.services.ledger import granted_year
    from subsidy.services import eligibility
    from tests.factories import ApplicationFactory

    ApplicationFactory(campaign=campaign, member=applicant, status="chsi_failed")
    if granted:
        from payouts.models import GrantLedger

        GrantLedger.objects.create(
            id_hmac=applicant.id_hmac, name=applicant.name, year=2021, amount_cny="1500.00"
        )
    statuses, year = eligibility.submission_facts(applicant, campaign)
    assert statuses == eligibility.attempt_statuses(applicant, campaign) == ["chsi_failed"]
    assert year == granted_year(applicant.id_hmac, campaign) == (2021 if granted else None)


@pytest.mark.django_db
def test_facts_read_with_the_token_are_used_once_and_only_for_their_campaign(
    applicant, campaign, django_assert_num_queries
):
    """subsidy.api.auth leaves the member's facts of the intake campaign on the member: the
    entry check takes them instead of a query, once, and never for another campaign."""
    from subsidy.services import eligibility

    # The read is a prepared statement (subsidy.services.prepared): the first one on a
    # connection also sends its PREPARE. Whether an earlier test on this connection already
    # did depends on the order the tests run in, so prepare it here.
    assert eligibility.submission_facts(applicant, campaign) == ([], None)
    applicant._submission_facts = (campaign.pk, ["chsi_failed"], 2022)
    with django_assert_num_queries(0):
        assert eligibility.submission_facts(applicant, campaign) == (["chsi_failed"], 2022)
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        assert eligibility.submission_facts(applicant, campaign) == ([], None)  # read now
    applicant._submission_facts = (campaign.pk + 1, ["city_rejected"], None)
    assert eligibility.submission_facts(applicant, campaign) == ([], None)
