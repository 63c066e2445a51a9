"""The event steps the allocation property test drives: submit, reject, approve, revoke,
publish, pay.

`submit` is the real intake service, with R1 cap (distinct members, under the campaign row
lock), R4 (window, quota reached, closed by hand), R5 (the lifetime ledger and other
campaigns' grants) and R6 (one active application, city rejection ends the campaign). The
review steps drive the model's transitions directly, as the review services do after their
scope and window checks (which have their own tests in tests/reviews/).

After publication the review levels are closed (city review ends before 公示), so approvals
and rejections are refused then, and intake is closed.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from payouts.services import allocation, payment, publication, revocation
from payouts.services.errors import PayoutError
from subsidy.models import Application, ApplicationStatus, Campaign
from subsidy.refcache import current_commitment
from subsidy.services import intake
from tests.payouts.conftest import luhn_account

S = ApplicationStatus

# The approval step for each pending status, and the rejection step.
APPROVE = {
    S.PENDING_CHSI: "registry_pass",
    S.PENDING_GRASSROOTS: "grassroots_approve",
    S.PENDING_DISTRICT: "district_approve",
    S.PENDING_CITY: "city_approve",
}
REJECT = {
    S.PENDING_CHSI: "registry_fail",
    S.PENDING_GRASSROOTS: "grassroots_reject",
    S.PENDING_DISTRICT: "district_reject",
    S.PENDING_CITY: "city_reject",
}


def submit(campaign: Campaign, member, **form) -> Application | str:
    """The real intake service (subsidy.services.intake): R1, R4, R5, R6 as applicants meet
    them. Returns the application, or the refusal code."""
    data = {
        "kind": form.get("kind", "enrollment"),
        "study_number": form.get("study_number", "20240001"),
        "worker_group": "none",
        "hukou": "non_agricultural",
        "job_position": "机修工",
        "bank_account": form.get("bank_account") or luhn_account(member.pk),
        "bank_branch": "广州天河支行",
        "union_contact_phone": "020-83000000",
        "commitment": current_commitment.get(),
        "notify_opt_in": False,
    }
    try:
        return intake.submit(member, campaign, data)
    except intake.IntakeRefused as exc:
        return exc.code


def _actor(level, actors):
    return {
        "registry": None,
        "grassroots": actors.grassroots,
        "district": actors.district,
        "city": actors.city,
    }[level]


_LEVEL = {
    S.PENDING_CHSI: "registry",
    S.PENDING_GRASSROOTS: "grassroots",
    S.PENDING_DISTRICT: "district",
    S.PENDING_CITY: "city",
}


def approve(app: Application, actors) -> str:
    """One approval step at whatever level the application waits; a city approval is followed
    by the allocation run the Celery task would make."""
    with transaction.atomic():
        app = Application.objects.select_for_update().select_related("campaign").get(pk=app.pk)
        if app.campaign.is_published:
            return "review_closed"
        step = APPROVE.get(app.status)
        if step is None:
            return "not_pending"
        getattr(app, step)(by=_actor(_LEVEL[app.status], actors))
        app.save()
    if app.status == S.APPROVED:
        allocation.allocate(app.campaign_id)
    return app.status


def reject(app: Application, actors, reason="材料不符合要求") -> str:
    with transaction.atomic():
        app = Application.objects.select_for_update().select_related("campaign").get(pk=app.pk)
        if app.campaign.is_published:
            return "review_closed"
        step = REJECT.get(app.status)
        if step is None:
            return "not_pending"
        getattr(app, step)(by=_actor(_LEVEL[app.status], actors), reason=reason)
        app.save()
    return app.status


def revoke(app: Application, actors, reason="经核查不符合条件") -> str:
    try:
        revocation.revoke(app, actors.city, reason)
    except PayoutError as exc:
        return exc.code
    return "revoked"


def publish(campaign: Campaign, actors) -> str:
    try:
        publication.publish(campaign.pk, by=actors.city)
    except PayoutError as exc:
        return exc.code
    return "published"


def pay_everyone(campaign: Campaign, actors) -> str:
    """End the publication period and pay every funded grantee: they enter the ledger."""
    import tablib

    Campaign.objects.filter(pk=campaign.pk).update(
        published_at=timezone.now() - timedelta(days=campaign.publication_days + 1)
    )
    try:
        batch = payment.create_batch(campaign.pk, by=actors.city)
    except PayoutError as exc:
        return exc.code
    ds = tablib.Dataset(headers=["账号", "户名", "金额", "结果", "失败原因"])
    for item in batch.items.all():
        ds.append([item.account, item.name, f"{item.amount_cny:.2f}", "成功", ""])
    outcome = payment.import_result(batch.pk, ds, by=actors.city)
    assert outcome.ok, outcome.errors
    return "paid"
