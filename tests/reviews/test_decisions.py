"""Every review transition, and every refused one (SPEC §6; notice attachments 2 and 3)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reviews.models import AuditRecord, OpenedApplication
from reviews.services import decisions
from reviews.services.decisions import DecisionError, NotInScope
from subsidy.models import Application


def _status(app):
    return Application.objects.values_list("status", flat=True).get(pk=app.pk)


def test_grassroots_approval_with_the_tick_moves_to_district(reviewers, app_a1):
    decisions.approve(reviewers.grassroots_a.user, app_a1.pk, confirm_employed=True)
    app_a1.refresh_from_db()
    assert app_a1.status == "pending_district"
    assert app_a1.confirmed_employed and app_a1.grassroots_decided_at
    rec = AuditRecord.objects.get(application=app_a1)
    assert (rec.transition, rec.from_status, rec.to_status) == (
        "grassroots_approve",
        "pending_grassroots",
        "pending_district",
    )
    assert rec.actor == reviewers.grassroots_a.user and rec.level == "grassroots"


def test_grassroots_approval_without_the_tick_is_refused(reviewers, app_a1):
    with pytest.raises(DecisionError) as exc:
        decisions.approve(reviewers.grassroots_a.user, app_a1.pk, confirm_employed=False)
    assert exc.value.code == "confirm_employed_required" and "确认在职职工" in exc.value.detail
    assert _status(app_a1) == "pending_grassroots"
    assert not AuditRecord.objects.exists()


@pytest.mark.parametrize("reason", ["", "   "])
def test_rejection_without_a_reason_is_refused(reviewers, app_a1, reason):
    with pytest.raises(DecisionError) as exc:
        decisions.reject(reviewers.grassroots_a.user, app_a1.pk, reason=reason)
    assert exc.value.code == "reason_required" and "原因" in exc.value.detail
    assert _status(app_a1) == "pending_grassroots"


def test_rejection_reason_over_500_characters_is_refused(reviewers, app_a1):
    with pytest.raises(DecisionError) as exc:
        decisions.reject(reviewers.grassroots_a.user, app_a1.pk, reason="长" * 501)
    assert exc.value.code == "reason_too_long"


def test_grassroots_rejection_stores_the_reason_for_the_applicant(reviewers, app_a1):
    decisions.reject(reviewers.grassroots_a.user, app_a1.pk, reason="非本单位在职职工")
    app_a1.refresh_from_db()
    assert app_a1.status == "grassroots_rejected"
    assert app_a1.rejection_reason == "非本单位在职职工"
    assert AuditRecord.objects.get(application=app_a1).reason == "非本单位在职职工"


def test_an_id_or_card_number_typed_into_a_reason_is_stored_masked(reviewers, app_a1):
    """The reason is shown to the applicant, exported, sent in notifications and kept in the
    audit chain: a full ID or card number in it is masked before any of that (SPEC §12)."""
    decisions.reject(
        reviewers.grassroots_a.user,
        app_a1.pk,
        reason="身份证号 440104198001010011 与学信网不符，卡号 6222021234567890128 非本人",
    )
    app_a1.refresh_from_db()
    stored = [app_a1.rejection_reason, AuditRecord.objects.get(application=app_a1).reason]
    for text in stored:
        assert "440104198001010011" not in text and "6222021234567890128" not in text
        assert "440104********0011" in text and "****0128" in text


@pytest.mark.parametrize(
    "role,start,action,end",
    [
        ("district_yuexiu", "pending_district", "approve", "pending_city"),
        ("district_yuexiu", "pending_district", "reject", "district_rejected"),
        ("city", "pending_city", "approve", "approved"),
        ("city", "pending_city", "reject", "city_rejected"),
        ("grassroots_a", "pending_grassroots", "reject", "grassroots_rejected"),
    ],
)
def test_each_level_moves_its_own_pending_applications(
    reviewers, make_app, tree, role, start, action, end
):
    app = make_app(tree.a1, status=start)
    user = getattr(reviewers, role).user
    if action == "approve":
        decisions.approve(user, app.pk)
    else:
        decisions.reject(user, app.pk, reason="专业与岗位不符")
    assert _status(app) == end
    assert AuditRecord.objects.filter(application=app, to_status=end).count() == 1


def test_city_approval_sets_city_approved_at(reviewers, make_app, tree):
    app = make_app(tree.a1, status="pending_city")
    decisions.approve(reviewers.city.user, app.pk)
    app.refresh_from_db()
    assert app.status == "approved" and app.city_approved_at is not None


def test_district_approval_needs_no_tick(reviewers, make_app, tree):
    app = make_app(tree.a1, status="pending_district")
    decisions.approve(reviewers.district_yuexiu.user, app.pk, confirm_employed=False)
    assert _status(app) == "pending_city"


@pytest.mark.parametrize(
    "role,status",
    [
        ("district_yuexiu", "pending_grassroots"),
        ("city", "pending_grassroots"),
        ("city", "pending_district"),
    ],
)
def test_a_level_cannot_act_before_the_application_reaches_it(
    reviewers, make_app, tree, role, status
):
    app = make_app(tree.a1, status=status)
    with pytest.raises(DecisionError) as exc:
        decisions.approve(getattr(reviewers, role).user, app.pk, confirm_employed=True)
    assert exc.value.code == "wrong_level" and exc.value.status_code == 403
    assert _status(app) == status


@pytest.mark.parametrize(
    "role,status",
    [
        ("grassroots_a", "pending_district"),
        ("grassroots_a", "grassroots_rejected"),
        ("district_yuexiu", "pending_city"),
        ("district_yuexiu", "approved"),
        ("city", "approved"),
        ("city", "city_rejected"),
        ("city", "funded"),
    ],
)
def test_wrong_state_is_a_conflict_with_the_current_status(reviewers, make_app, tree, role, status):
    app = make_app(tree.a1, status=status)
    with pytest.raises(DecisionError) as exc:
        decisions.reject(getattr(reviewers, role).user, app.pk, reason="不符合")
    assert exc.value.code == "conflict" and exc.value.status_code == 409
    assert exc.value.current_status == status
    assert _status(app) == status


def test_stale_expected_status_is_a_conflict(reviewers, app_a1):
    with pytest.raises(DecisionError) as exc:
        decisions.approve(
            reviewers.grassroots_a.user,
            app_a1.pk,
            confirm_employed=True,
            expected_status="pending_district",
        )
    assert exc.value.code == "conflict"


@pytest.mark.parametrize(
    "role,status,deadline_field",
    [
        ("grassroots_a", "pending_grassroots", "grassroots_review_until"),
        ("district_yuexiu", "pending_district", "district_review_until"),
        ("city", "pending_city", "city_review_until"),
    ],
)
def test_a_level_cannot_act_after_its_review_deadline(
    reviewers, make_app, tree, campaign, role, status, deadline_field
):
    setattr(campaign, deadline_field, timezone.now() - timedelta(minutes=1))
    campaign.save()
    app = make_app(tree.a1, status=status)
    with pytest.raises(DecisionError) as exc:
        decisions.approve(getattr(reviewers, role).user, app.pk, confirm_employed=True)
    assert exc.value.code == "review_closed" and "审核时间" in exc.value.detail
    assert _status(app) == status


def test_no_level_can_act_before_the_campaign_opens(reviewers, app_a1, campaign):
    campaign.opens_at = timezone.now() + timedelta(hours=1)
    campaign.save()
    with pytest.raises(DecisionError) as exc:
        decisions.approve(reviewers.grassroots_a.user, app_a1.pk, confirm_employed=True)
    assert exc.value.code == "review_closed"


@pytest.mark.parametrize("role", ["grassroots_b", "district_haizhu", "industry"])
def test_out_of_scope_is_not_found(reviewers, app_a1, role):
    with pytest.raises(NotInScope):
        decisions.approve(getattr(reviewers, role).user, app_a1.pk, confirm_employed=True)
    assert _status(app_a1) == "pending_grassroots"


def test_an_applicant_cannot_decide(app_a1):
    with pytest.raises(NotInScope):
        decisions.approve(app_a1.member.user, app_a1.pk, confirm_employed=True)


def test_batch_approve_only_covers_opened_rows(reviewers, make_app, tree):
    user = reviewers.grassroots_a.user
    opened = make_app(tree.a1)
    unopened = make_app(tree.a1)
    foreign = make_app(tree.b1)
    OpenedApplication.objects.create(user=user, application=opened)
    result = decisions.batch_approve(
        user, [opened.pk, unopened.pk, foreign.pk], confirm_employed=True
    )
    assert [a.pk for a in result.approved] == [opened.pk]
    refused = {pk: msg for pk, _n, msg in result.refused}
    assert "尚未打开" in refused[unopened.pk] and refused[foreign.pk] == "未找到该申领"
    assert _status(opened) == "pending_district"
    assert _status(unopened) == "pending_grassroots"
    assert _status(foreign) == "pending_grassroots"


def test_another_reviewer_opening_does_not_count(reviewers, make_app, tree):
    from tests.factories import ReviewerFactory

    colleague = ReviewerFactory(level="grassroots", unions=[tree.a1])
    app = make_app(tree.a1)
    OpenedApplication.objects.create(user=colleague.user, application=app)
    result = decisions.batch_approve(reviewers.grassroots_a.user, [app.pk], confirm_employed=True)
    assert result.approved == [] and _status(app) == "pending_grassroots"


def test_batch_approve_at_grassroots_needs_the_tick(reviewers, app_a1):
    OpenedApplication.objects.create(user=reviewers.grassroots_a.user, application=app_a1)
    with pytest.raises(DecisionError) as exc:
        decisions.batch_approve(reviewers.grassroots_a.user, [app_a1.pk])
    assert exc.value.code == "confirm_employed_required"
