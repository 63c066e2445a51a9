"""Revocation (取消补助资格, R7) and the promotion of the best-ranked waitlisted application.

Both happen in one transaction under the campaign's payout lock, so a revocation and an
allocation run never see each other half done, and the funded count never exceeds the quota
(R2). Each is a single-row transition, so django-fsm's post_transition audits and notifies.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django_fsm import has_transition_perm

from payouts.models import PaymentItem, PaymentResult
from payouts.services.errors import PayoutError
from payouts.services.locking import lock_campaign
from payouts.services.public_list import invalidate_public_list
from payouts.services.supplementary import list_supplementary
from subsidy.models import RANK_ORDER, Application, ApplicationStatus
from unions.validators import clean_free_text

S = ApplicationStatus
PROMOTION_REASON = "递补：有获补助人员被取消资格，列入补充公示"


def revoke(application: Application, by, reason: str):
    """Revoke a funded application, or one whose payment failed, with a reason (R7): the place
    it held is freed and the best-ranked waitlisted application promoted. Return the promoted
    application or None."""
    try:
        reason = clean_free_text(reason)  # stored, exported and sent: numbers masked
    except ValidationError as exc:
        raise PayoutError(exc.code, exc.messages[0])
    if not reason:
        raise PayoutError("reason_required", "请填写取消补助资格的原因")
    if len(reason) > 500:
        raise PayoutError("reason_too_long", "原因不能超过 500 字")
    with transaction.atomic():
        lock_campaign(application.campaign_id)
        app = (
            Application.objects.select_for_update()
            .select_related("campaign")
            .get(pk=application.pk)
        )
        if app.status not in (S.FUNDED, S.PAYMENT_FAILED):
            raise PayoutError("not_funded", "只有“拟获补助”或“发放失败”的申领可以取消补助资格", 409)
        if not has_transition_perm(app.revoke, by):
            raise PayoutError("permission_denied", "只有市总工会工作人员可以取消补助资格", 403)
        if PaymentItem.objects.filter(application=app, result=PaymentResult.PENDING).exists():
            raise PayoutError("in_payment", "该申领已在发放批次中，待银行回盘后再处理", 409)
        app.revoke(by=by, reason=reason)
        app.save()
        promoted = promote_next(app.campaign, by, replaces=app)
        transaction.on_commit(lambda: invalidate_public_list(app.campaign_id))
    return promoted


def promote_next(campaign, by=None, replaces=None):
    """Fund the best-ranked waitlisted application if a place is free; after publication it
    goes on the supplementary list (补充公示) with its own period. Caller holds the lock."""
    taken = (
        Application.objects.in_status(S.FUNDED, S.PAID, S.PAYMENT_FAILED)
        .filter(campaign=campaign)
        .count()
    )
    if taken >= campaign.quota:
        return None
    nxt = (
        Application.objects.select_for_update()
        .in_status(S.WAITLISTED)
        .filter(campaign=campaign)
        .order_by(*RANK_ORDER)
        .first()
    )
    if nxt is None:
        return None
    published = campaign.is_published
    nxt.fund(by=by, reason=PROMOTION_REASON if published else "递补：有获补助人员被取消资格")
    nxt.save()
    if published:
        list_supplementary(
            campaign, [(nxt.pk, replaces.pk if replaces else None, "递补：有获补助人员被取消资格")]
        )
    return nxt
