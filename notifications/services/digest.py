"""The daily staff digest (SPEC §9): overdue review rows per level, registry SLA breaches,
payment failures and undelivered notifications — to city staff reviewers' phones / e-mail."""

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from notifications.models import Channel, DeliveryStatus, Notification, NotificationKind
from notifications.services.delivery import enqueue
from notifications.services.messages import sms_content
from subsidy.models import PENDING_FOR_LEVEL, Application, Campaign
from subsidy.models import ApplicationStatus as S
from unions.models import ReviewerLevel, ReviewerProfile


def figures(campaign, now=None) -> dict:
    """One aggregate query over the campaign's applications plus one over the outbox."""
    now = now or timezone.now()
    sla_cutoff = now - timedelta(hours=campaign.registry_sla_hours)
    agg = {}
    for level, status in PENDING_FOR_LEVEL.items():
        if now > campaign.review_deadline(level):
            agg[f"overdue_{level}"] = Count("pk", filter=Q(stage=status))
    agg["registry_sla_breached"] = Count(
        "pk", filter=Q(stage=S.PENDING_CHSI, submitted_at__lt=sla_cutoff)
    )
    # each of these statuses is its own stage (Application.stage), which the indexes carry
    agg["payment_failed"] = Count("pk", filter=Q(stage=S.PAYMENT_FAILED))
    result = Application.objects.filter(campaign=campaign).aggregate(**agg)
    out = {
        "overdue": {lv: result.get(f"overdue_{lv}", 0) for lv in PENDING_FOR_LEVEL},
        "registry_sla_breached": result["registry_sla_breached"],
        "payment_failed": result["payment_failed"],
    }
    out["undelivered"] = Notification.objects.filter(
        status__in=[DeliveryStatus.FAILED, DeliveryStatus.UNCONFIRMED],
        created_at__gte=now - timedelta(days=1),
    ).count()
    return out


def digest_params(campaign, f) -> dict:
    """The parameters of the `staff_digest` SMS template."""
    labels = dict(ReviewerLevel.choices)
    overdue = "，".join(f"{labels[lv]}{n}件" for lv, n in f["overdue"].items() if n) or "无"
    return {
        "campaign": campaign.title,
        "overdue": overdue,
        "sla_hours": str(campaign.registry_sla_hours),
        "sla_breached": str(f["registry_sla_breached"]),
        "payment_failed": str(f["payment_failed"]),
        "undelivered": str(f["undelivered"]),
    }


def digest_text(campaign, f) -> str:
    return sms_content("staff_digest", digest_params(campaign, f))["text"]


def has_news(f) -> bool:
    return bool(
        any(f["overdue"].values())
        or f["registry_sla_breached"]
        or f["payment_failed"]
        or f["undelivered"]
    )


def send_staff_digest(now=None) -> list[Notification]:
    campaign = Campaign.current()
    if campaign is None:
        return []
    f = figures(campaign, now)
    if not has_news(f):
        return []
    sms = sms_content("staff_digest", digest_params(campaign, f))
    rows = []
    for r in ReviewerProfile.objects.filter(level=ReviewerLevel.CITY, active=True):
        common = dict(kind=NotificationKind.STAFF_DIGEST, recipient_user_id=r.user_id)
        if r.phone:
            rows.append(Notification(channel=Channel.SMS, recipient=r.phone, **common, **sms))
        if r.email:
            rows.append(
                Notification(
                    channel=Channel.EMAIL,
                    recipient=r.email,
                    subject="求学圆梦每日提醒",
                    text=sms["text"],
                    **common,
                )
            )
    return enqueue(rows)
