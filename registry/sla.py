"""The registry SLA (notice 五(三): "2小时内系统输出校核结果"; SPEC §5, §9).

Time to result = submitted_at → registry_checked_at. `sla_figures(campaign)` gives the median,
the p95 and the count of applications still waiting past campaign.registry_sla_hours;
`sla_breaches(campaign)` lists those applications (the notification outbox calls it to alert
staff); `alert_breaches()` — run by the sweeper every couple of minutes — logs a WARNING and
sends the `registry_sla_breached` signal when there are any.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import DurationField, ExpressionWrapper, F
from django.dispatch import Signal
from django.utils import timezone

from subsidy.models import Application, ApplicationStatus, Campaign

logger = logging.getLogger(__name__)

# Sent with campaign=, applications= (a queryset of overdue ones) when the SLA is breached.
registry_sla_breached = Signal()


@dataclass(frozen=True)
class SlaFigures:
    campaign: Campaign
    sla_hours: int
    checked: int  # applications with a result
    median_seconds: float | None
    p95_seconds: float | None
    late_results: int  # results that came after the SLA
    pending: int  # still in pending_chsi
    overdue: int  # pending and older than the SLA — a breach

    @property
    def breached(self) -> bool:
        return self.overdue > 0


def _percentile(sorted_values: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont)."""
    if not sorted_values:
        return None
    k = (len(sorted_values) - 1) * p
    lo, hi = math.floor(k), math.ceil(k)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def durations(campaign) -> list[float]:
    qs = (
        Application.objects.filter(campaign=campaign, registry_checked_at__isnull=False)
        .annotate(
            took=ExpressionWrapper(
                F("registry_checked_at") - F("submitted_at"), output_field=DurationField()
            )
        )
        .values_list("took", flat=True)
    )
    return sorted(max(d.total_seconds(), 0.0) for d in qs)


def overdue_applications(campaign, now=None):
    now = now or timezone.now()
    return (
        Application.objects.in_status(ApplicationStatus.PENDING_CHSI)
        .filter(
            campaign=campaign,
            submitted_at__lt=now - timedelta(hours=campaign.registry_sla_hours),
        )
        .order_by("submitted_at")
    )


def sla_breaches(campaign, now=None):
    """Applications of `campaign` waiting longer than its SLA without a result, oldest first.
    The public entry point for alerting (notifications outbox)."""
    return overdue_applications(campaign, now)


def sla_figures(campaign, now=None) -> SlaFigures:
    values = durations(campaign)
    limit = campaign.registry_sla_hours * 3600
    pending = (
        Application.objects.in_status(ApplicationStatus.PENDING_CHSI).filter(campaign=campaign)
    ).count()
    return SlaFigures(
        campaign=campaign,
        sla_hours=campaign.registry_sla_hours,
        checked=len(values),
        median_seconds=_percentile(values, 0.5),
        p95_seconds=_percentile(values, 0.95),
        late_results=sum(1 for v in values if v > limit),
        pending=pending,
        overdue=overdue_applications(campaign, now).count(),
    )


def campaigns_with_pending():
    return Campaign.objects.filter(
        pk__in=Application.objects.in_status(ApplicationStatus.PENDING_CHSI).values("campaign")
    )


def alert_breaches(now=None) -> int:
    """Log (WARNING) and signal every campaign with overdue checks; returns the total."""
    total = 0
    for campaign in campaigns_with_pending():
        overdue = sla_breaches(campaign, now)
        count = overdue.count()
        if not count:
            continue
        total += count
        oldest = overdue.first()
        logger.warning(
            "registry SLA breached: %d application(s) of %s waiting over %d h without a "
            "result (oldest: application %s, queue #%s, submitted %s)",
            count,
            campaign.year,
            campaign.registry_sla_hours,
            oldest.pk,
            oldest.queue_number,
            timezone.localtime(oldest.submitted_at).isoformat(timespec="minutes"),
        )
        registry_sla_breached.send(sender=None, campaign=campaign, applications=overdue)
    return total


def format_seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 120:
        return f"{value:.1f} 秒"
    if value < 7200:
        return f"{value / 60:.1f} 分钟"
    return f"{value / 3600:.2f} 小时"
