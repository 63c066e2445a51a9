"""The notice's calendar (issue 19 parts 1 and 3): the list is determined after review (R8),
名额已满 only when the quota is really full, the supplementary list (补充公示) after a
revocation, and a failed payment corrected or revoked."""

from datetime import timedelta

import pytest
import tablib
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from notifications.models import Notification
from payouts.models import PaymentBatch, SupplementaryListing
from payouts.services import payment
from payouts.services.allocation import allocate
from payouts.services.errors import PayoutError
from payouts.services.publication import publish, readiness
from payouts.services.revocation import revoke
from reviews.models import AuditRecord
from subsidy.models import Application, ApplicationStatus, Campaign
from subsidy.services import progress
from tests.payouts.conftest import end_intake, luhn_account, make_app, statuses
from tests.subsidy.conftest import CCB_DEBIT, ICBC_CREDIT, UNKNOWN

S = ApplicationStatus
pytestmark = pytest.mark.django_db


def _city_deadline_passes(campaign):
    Campaign.objects.filter(pk=campaign.pk).update(
        closes_at=timezone.now() - timedelta(days=3),
        city_review_until=timezone.now() - timedelta(minutes=1),
    )
    campaign.refresh_from_db()


def _end_publication(campaign):
    Campaign.objects.filter(pk=campaign.pk).update(
        published_at=timezone.now() - timedelta(days=campaign.publication_days, hours=1)
    )
    campaign.refresh_from_db()


@pytest.fixture
def mid_intake(campaign, tree):
    """Day three of intake: 4 waiting at grassroots, 1 at district, 1 city-approved."""
    pending = [make_app(campaign, tree.a1, m, status=S.PENDING_GRASSROOTS) for m in range(4)]
    pending.append(make_app(campaign, tree.a2, 5, status=S.PENDING_DISTRICT))
    approved = make_app(campaign, tree.a1, 6)
    return campaign, pending, approved


# --- R8: publication refused while review is in progress ----------------------------------
def test_publication_mid_intake_is_refused_with_the_counts_that_block_it(mid_intake):
    campaign, pending, approved = mid_intake
    with pytest.raises(PayoutError) as exc:
        publish(campaign.pk)
    err = exc.value
    assert err.code == "review_in_progress" and err.status == 409
    assert "申领通道仍开放" in err.message
    assert "待基层工会审核 4 件" in err.message
    assert "待区总工会，产业、直属单位工会审核 1 件" in err.message
    assert "待市总工会审核" not in err.message  # nothing there: not named as a blocker
    assert err.extra["blocking"]["pending"] == {
        "pending_chsi": 0,
        "pending_grassroots": 4,
        "pending_district": 1,
        "pending_city": 0,
    }
    campaign.refresh_from_db()
    assert campaign.published_at is None
    assert statuses(campaign)[approved.pk] == S.APPROVED  # nothing determined, nothing frozen


def test_publish_api_button_and_command_all_refuse_and_say_why(mid_intake, city_api, city_client):
    campaign, *_ = mid_intake
    r = city_api.post(f"/api/v1/campaigns/{campaign.pk}/publish/")
    body = r.json()
    assert r.status_code == 409 and body["code"] == "review_in_progress"
    assert "待基层工会审核 4 件" in body["detail"]
    assert body["blocking"]["intake_open"] is True
    assert body["blocking"]["pending"]["pending_district"] == 1
    html = city_client.post(f"/payouts/campaigns/{campaign.pk}/publish/", follow=True)
    assert "审核尚未结束，暂不能公示" in html.content.decode()
    with pytest.raises(CommandError) as exc:
        call_command("publish", str(campaign.year))
    assert "review_in_progress" in str(exc.value) and "待基层工会审核 4 件" in str(exc.value)
    campaign.refresh_from_db()
    assert campaign.published_at is None


def test_payouts_desk_shows_the_blocking_counts_before_anyone_presses(mid_intake, city_client):
    campaign, *_ = mid_intake
    html = city_client.get(f"/payouts/?campaign={campaign.pk}").content.decode()
    block = html.split('id="publish-readiness"')[1].split("</div>")[0]
    assert "暂不能公示" in block and "开放中" in block
    assert "<td>4 件</td>" in block and "<td>1 件</td>" in block


def test_intake_closed_but_rows_pending_still_blocks(mid_intake):
    campaign, *_ = mid_intake
    end_intake(campaign)
    ready = readiness(campaign)
    assert ready.blocked and not ready.intake_open
    assert "申领通道仍开放" not in ready.message()
    with pytest.raises(PayoutError) as exc:
        publish(campaign.pk)
    assert exc.value.code == "review_in_progress"


def test_after_the_city_deadline_pending_rows_do_not_block_and_stay_off_the_list(
    mid_intake, client
):
    campaign, pending, approved = mid_intake
    _city_deadline_passes(campaign)
    ready = readiness(campaign)
    assert not ready.blocked and ready.left_out == 5 and "不列入本次名单" in ready.message()
    publish(campaign.pk)
    st = statuses(campaign)
    assert st[approved.pk] == S.FUNDED
    assert all(st[a.pk] in (S.PENDING_GRASSROOTS, S.PENDING_DISTRICT) for a in pending)
    body = APIClient().get(f"/api/v1/public/campaigns/{campaign.pk}/grantees/").json()
    assert body["count"] == 1 and body["supplementary"] == {"count": 0, "results": []}


def test_publish_command_publishes_when_review_is_over(campaign, tree):
    make_app(campaign, tree.a1, 1)
    end_intake(campaign)
    call_command("publish", str(campaign.year), "--check")
    call_command("publish", str(campaign.year))
    campaign.refresh_from_db()
    assert campaign.is_published


# --- 名额已满 only when it is ---------------------------------------------------------------
def test_a_late_approval_with_free_places_is_funded_on_the_supplementary_list(
    mid_intake, reviewers
):
    """The issue's first scenario, as it can still happen after R8: published after the city's
    deadline with one grantee; a row overdue at district is then decided and approved. It gets
    one of the 4125 free places (supplementary list), not 候补（名额已满）."""
    campaign, pending, _approved = mid_intake
    _city_deadline_passes(campaign)
    publish(campaign.pk)
    late = Application.objects.get(pk=pending[4].pk)
    Application.objects.filter(pk=late.pk).update(
        status=S.APPROVED, city_approved_at=timezone.now()
    )
    allocate(campaign)
    late.refresh_from_db()
    assert late.status == S.FUNDED
    listing = SupplementaryListing.objects.get(application=late)
    assert listing.ends_at - listing.listed_at == timedelta(days=campaign.publication_days)
    texts = " ".join(Notification.objects.filter(application=late).values_list("text", flat=True))
    assert "拟获补助" in texts and "名额已满" not in texts
    assert progress.describe(late)["status_label"] == "拟获补助"


def test_waitlisted_with_free_places_never_reads_quota_full(campaign, tree):
    app = make_app(campaign, tree.a1, 1, status=S.WAITLISTED)
    described = progress.describe(Application.objects.get(pk=app.pk))
    assert described["status_label"] == "候补（等待递补）"
    from notifications.services.messages import applicant_text, for_moves

    text = applicant_text(app, S.WAITLISTED, full=False)
    assert "名额已满" not in text and "候补（等待递补）" in text
    row = for_moves([(app.pk, "waitlist", S.APPROVED, S.WAITLISTED)])[0]
    assert "名额已满" not in row[8]


def test_waitlisted_when_the_quota_is_full_reads_quota_full(small_campaign, tree):
    apps = [make_app(small_campaign, tree.a1, m) for m in range(4)]
    allocate(small_campaign)
    last = Application.objects.get(pk=apps[3].pk)
    assert last.status == S.WAITLISTED
    assert progress.describe(last)["status_label"] == "候补（名额已满）"
    text = Notification.objects.filter(application=last).latest("created_at").text
    assert "候补（名额已满）" in text and "补助名额已满" in text


def test_api_progress_label_follows_the_quota(campaign, tree, django_user_model):
    app = make_app(campaign, tree.a1, 1, status=S.WAITLISTED)
    user = django_user_model.objects.create_user("applicant-w")
    app.member.user = user
    app.member.save()
    api = APIClient()
    api.force_authenticate(user)
    r = api.get("/api/v1/applications/mine/")
    row = next(a for a in r.json()["results"] if a["id"] == app.pk)
    assert row["status"] == "waitlisted" and row["status_label"] == "候补（等待递补）"


# --- payment_failed → revoke → promotion → supplementary list → paid after its period ------
@pytest.fixture
def paid_with_one_failure(small_campaign, tree, city_user):
    """Quota 3, five approved; published, period over; batch 1: two paid, one failed."""
    apps = [
        make_app(small_campaign, tree.a1, m, bank_account=luhn_account(m))
        for m in (10, 20, 30, 40, 50)
    ]
    allocate(small_campaign)
    end_intake(small_campaign)
    publish(small_campaign.pk)
    _end_publication(small_campaign)
    batch = payment.create_batch(small_campaign.pk, by=city_user)
    apps = [Application.objects.get(pk=a.pk) for a in apps]
    ds = tablib.Dataset(headers=["账号", "户名", "金额", "结果", "失败原因"])
    ds.append([apps[0].bank_account, apps[0].name, "1500.00", "成功", ""])
    ds.append([apps[1].bank_account, apps[1].name, "1500.00", "成功", ""])
    ds.append([apps[2].bank_account, apps[2].name, "1500.00", "失败", "账户已冻结"])
    assert payment.import_result(batch.pk, ds, by=city_user).ok
    return small_campaign, apps


def test_failed_payment_revoked_promotes_onto_the_supplementary_list_paid_after_its_period(
    paid_with_one_failure, city_user, city_client, client
):
    campaign, apps = paid_with_one_failure
    assert statuses(campaign)[apps[2].pk] == S.PAYMENT_FAILED
    r = city_client.post(
        f"/payouts/applications/{apps[2].pk}/revoke/", {"reason": "本人放弃补助"}, follow=True
    )
    assert "递补为拟获补助" in r.content.decode()
    st = statuses(campaign)
    assert st[apps[2].pk] == S.REVOKED
    assert st[apps[3].pk] == S.FUNDED and st[apps[4].pk] == S.WAITLISTED
    listing = SupplementaryListing.objects.get(application=apps[3])
    assert listing.replaces_id == apps[2].pk
    assert AuditRecord.objects.filter(
        application=apps[2], from_status=S.PAYMENT_FAILED, to_status=S.REVOKED
    ).exists()
    # the public page: the main period is over, the supplementary list is in its own
    html = client.get(f"/public/campaigns/{campaign.pk}/").content.decode()
    assert "公示期已结束" in html and "补充公示" in html
    supplementary = html.split('id="supplementary"')[1]
    assert supplementary.count("<tr>") == 1 + 1 and apps[3].name not in html
    body = APIClient().get(f"/api/v1/public/campaigns/{campaign.pk}/grantees/").json()
    assert body["state"] == "ended" and body["results"] == []
    assert body["supplementary"]["count"] == 1
    assert body["supplementary"]["results"][0]["ends_at"]
    # not paid inside its own period
    with pytest.raises(PayoutError) as exc:
        payment.create_batch(campaign.pk, by=city_user)
    assert exc.value.code == "supplementary_not_ended" and "补充公示期结束" in exc.value.message
    assert PaymentBatch.objects.count() == 1
    # its period over: the next batch pays it, and only it
    SupplementaryListing.objects.filter(pk=listing.pk).update(
        ends_at=timezone.now() - timedelta(minutes=1)
    )
    batch = payment.create_batch(campaign.pk, by=city_user)
    assert list(batch.items.values_list("application_id", flat=True)) == [apps[3].pk]
    # and the public list no longer shows a period that ended
    from payouts.services.public_list import invalidate_public_list

    invalidate_public_list(campaign.pk)
    assert APIClient().get(f"/api/v1/public/campaigns/{campaign.pk}/grantees/").status_code == 410


def test_a_funded_row_paid_in_the_same_batch_as_others_waits_for_its_own_period(
    paid_with_one_failure, city_user
):
    """A promoted row in its period does not hold back a corrected account's payment."""
    campaign, apps = paid_with_one_failure
    revoke(Application.objects.get(pk=apps[2].pk), city_user, "本人放弃")
    revoke(Application.objects.get(pk=apps[3].pk), city_user, "经核查不符合条件")
    assert statuses(campaign)[apps[4].pk] == S.FUNDED
    assert SupplementaryListing.objects.filter(application=apps[4]).exists()
    # apps[3] was on the supplementary list and is revoked: it leaves it
    from payouts.services.public_list import supplementary_rows

    assert [r["no"] for r in supplementary_rows(campaign.pk)] == [1]


# --- correcting a failed payment's account: the form's rules, one function -----------------
def test_correction_accepts_dashes_and_spaces_like_the_form(paid_with_one_failure, city_client):
    campaign, apps = paid_with_one_failure
    new = luhn_account(777)
    typed = "-".join(new[i : i + 4] for i in range(0, len(new), 4))
    r = city_client.post(
        f"/payouts/applications/{apps[2].pk}/account/",
        {"account": f" {typed} ", "reason": "本人提供新卡"},
        follow=True,
    )
    assert "已更正银行账号" in r.content.decode()
    app = Application.objects.get(pk=apps[2].pk)
    assert app.bank_account == new and app.bin_unknown is False


def test_correction_refuses_a_credit_card_and_saves_nothing(paid_with_one_failure, city_client):
    campaign, apps = paid_with_one_failure
    r = city_client.post(
        f"/payouts/applications/{apps[2].pk}/account/",
        {"account": ICBC_CREDIT, "reason": "本人提供新卡"},
        follow=True,
    )
    assert "请填写本人工商银行借记卡" in r.content.decode()
    app = Application.objects.get(pk=apps[2].pk)
    assert app.bank_account == apps[2].bank_account
    assert not app.account_corrections.exists()


def test_correction_with_an_unknown_bin_needs_confirmation_and_flags_it(
    paid_with_one_failure, city_user
):
    campaign, apps = paid_with_one_failure
    with pytest.raises(PayoutError) as exc:
        payment.correct_account(apps[2], city_user, UNKNOWN, "", "本人提供新卡")
    assert exc.value.code == "bin_unknown" and "请勾选确认" in exc.value.message
    payment.correct_account(apps[2], city_user, UNKNOWN, "", "本人提供新卡", confirm_unknown=True)
    app = Application.objects.get(pk=apps[2].pk)
    assert app.bank_account == UNKNOWN and app.bin_unknown is True
    rec = AuditRecord.objects.filter(application=app, transition="correct_account").last()
    assert "已确认" in rec.reason and UNKNOWN not in rec.reason


@pytest.mark.parametrize(
    "account,code",
    [
        ("6222 0212 3456 7890 12X", "account_format"),
        ("6222021234", "account_length"),
        (luhn_account(9)[:-1] + str((int(luhn_account(9)[-1]) + 1) % 10), "account_checksum"),
        (CCB_DEBIT, "bank_not_icbc"),
        ("6222\x000212345678901", "text_garbled"),
    ],
)
def test_correction_refusals_use_the_form_codes(paid_with_one_failure, city_user, account, code):
    campaign, apps = paid_with_one_failure
    with pytest.raises(PayoutError) as exc:
        payment.correct_account(apps[2], city_user, account, "", "本人提供新卡")
    assert exc.value.code == code
    assert Application.objects.get(pk=apps[2].pk).bank_account == apps[2].bank_account
