"""Statistics for city staff (everything) and each union (its subtree), SPEC §10.

The scope is whatever `Application.objects.visible_to(user)` returns — the one door; this
module never decides scoping itself. Figures come from six aggregate queries (no per-row
Python) and are cached briefly per (campaign, scope).
"""

import math
from datetime import datetime, time, timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Func, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from notifications import conf
from subsidy.models import (
    CITY_APPROVED_STATUSES,
    PENDING_FOR_LEVEL,
    Application,
    ApplicationType,
    Hukou,
    WorkerGroup,
)
from subsidy.models import ApplicationStatus as S
from unions.models import ReviewerLevel

NO_DISTRICT = "市总工会直属"


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate percentile_cont(p) WITHIN GROUP (ORDER BY x)."""

    function = "percentile_cont"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, percentile, **extra):
        super().__init__(expression, percentile=float(percentile), **extra)


def _epoch_seconds(expr):
    return Func(expr, template="EXTRACT(EPOCH FROM %(expressions)s)", output_field=FloatField())


def scope_key(user) -> str:
    """A cache key part naming the user's scope (not the user: same scope, same figures)."""
    reviewer = getattr(user, "reviewer", None)
    if reviewer is not None and reviewer.active:
        if reviewer.is_city:
            return "city"
        ids = sorted(reviewer.managed_unions.values_list("pk", flat=True))
        return f"{reviewer.level}:{'-'.join(map(str, ids))}"
    if user.is_superuser:
        return "all"
    return "none"


def may_view(user) -> bool:
    if not user.is_authenticated:
        return False
    reviewer = getattr(user, "reviewer", None)
    return (reviewer is not None and reviewer.active) or user.is_superuser


def is_whole_city(user) -> bool:
    return scope_key(user) in {"city", "all"}


def campaign_stats(campaign, user, use_cache=True) -> dict:
    key = f"stats:v1:{campaign.pk}:{scope_key(user)}"
    if use_cache:
        hit = cache.get(key)
        if hit is not None:
            return hit
    data = compute(campaign, user)
    cache.set(key, data, conf.STATS_CACHE_SECONDS)
    return data


def _percentiles(qs):
    done = qs.filter(registry_checked_at__isnull=False)
    if connection.vendor == "postgresql":
        secs = _epoch_seconds(F("registry_checked_at") - F("submitted_at"))
        r = done.aggregate(
            n=Count("pk"), p50=PercentileCont(secs, 0.5), p95=PercentileCont(secs, 0.95)
        )
        return r["n"], r["p50"], r["p95"]
    # SQLite (development): no ordered-set aggregates; compute from the pairs.
    values = sorted(
        (b - a).total_seconds()
        for a, b in done.values_list("submitted_at", "registry_checked_at").iterator()
    )
    return len(values), percentile(values, 0.5), percentile(values, 0.95)


def percentile(sorted_values, p):
    """Linear interpolation between closest ranks, as percentile_cont does."""
    if not sorted_values:
        return None
    k = (len(sorted_values) - 1) * p
    lo, hi = math.floor(k), math.ceil(k)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def compute(campaign, user, now=None) -> dict:
    now = now or timezone.now()
    qs = Application.objects.visible_to(user).filter(campaign=campaign)
    whole_city = is_whole_city(user)

    # 1. totals
    totals = qs.aggregate(
        applications=Count("pk"),
        applicants=Count("member_id", distinct=True),
        approved=Count("pk", filter=Q(city_approved_at__isnull=False) & ~Q(status=S.REVOKED)),
    )

    # 2. status × district
    by_status = {s: 0 for s in S.values}
    districts = {}
    for row in qs.values("union__district_id", "union__district__name", "status").annotate(
        n=Count("pk")
    ):
        by_status[row["status"]] += row["n"]
        name = row["union__district__name"] or NO_DISTRICT
        d = districts.setdefault(
            name, {"district": name, "counts": {s: 0 for s in S.values}, "total": 0}
        )
        d["counts"][row["status"]] += row["n"]
        d["total"] += row["n"]

    # 3. worker group × type × hukou, folded into the three breakdowns
    groups = {k: 0 for k in WorkerGroup.values}
    kinds = {k: 0 for k in ApplicationType.values}
    hukous = {k: 0 for k in Hukou.values}
    for row in qs.values("worker_group", "kind", "hukou").annotate(n=Count("pk")):
        groups[row["worker_group"]] = groups.get(row["worker_group"], 0) + row["n"]
        kinds[row["kind"]] = kinds.get(row["kind"], 0) + row["n"]
        hukous[row["hukou"]] = hukous.get(row["hukou"], 0) + row["n"]

    # 4. review backlog and overdue per level (overdue: still pending past the level's deadline)
    backlog = []
    for level, status in PENDING_FOR_LEVEL.items():
        deadline = campaign.review_deadline(level)
        pending = by_status[status]
        backlog.append(
            {
                "level": level,
                "label": ReviewerLevel(level).label,
                "pending": pending,
                "overdue": pending if now > deadline else 0,
                "deadline": timezone.localtime(deadline).isoformat(),
            }
        )

    # 5. registry time to result
    n, p50, p95 = _percentiles(qs)

    # 6. submissions per hour of the opening day (local time)
    day = timezone.localtime(campaign.opens_at).date()
    start = timezone.make_aware(datetime.combine(day, time.min))
    hours = {start + timedelta(hours=h): 0 for h in range(24)}
    for row in (
        qs.filter(submitted_at__gte=start, submitted_at__lt=start + timedelta(days=1))
        .annotate(h=TruncHour("submitted_at"))
        .values("h")
        .annotate(n=Count("pk"))
    ):
        hours[timezone.localtime(row["h"])] = row["n"]

    applicants = campaign.applicant_count if whole_city else totals["applicants"]
    city_approved = sum(by_status[s] for s in CITY_APPROVED_STATUSES)
    return {
        "campaign": {"id": campaign.pk, "title": campaign.title, "year": campaign.year},
        "scope": "city" if whole_city else "union",
        "generated_at": timezone.localtime(now).isoformat(),
        "applicants": {"count": applicants, "cap": campaign.application_cap},
        "applicants_in_scope": totals["applicants"],
        "applications": totals["applications"],
        "approvals": {"count": totals["approved"], "quota": campaign.quota},
        "city_approved_statuses": city_approved,
        "by_status": [{"status": s, "label": S(s).label, "count": by_status[s]} for s in S.values],
        "by_district": sorted(districts.values(), key=lambda d: (-d["total"], d["district"])),
        "by_worker_group": _labelled(groups, WorkerGroup),
        "by_kind": _labelled(kinds, ApplicationType),
        "by_hukou": _labelled(hukous, Hukou),
        "backlog": backlog,
        "registry_latency": {
            "checked": n,
            "median_seconds": _round(p50),
            "p95_seconds": _round(p95),
        },
        "opening_day": {
            "date": day.isoformat(),
            "hours": [{"hour": f"{h:%H}:00", "count": c} for h, c in sorted(hours.items())],
        },
    }


def _labelled(counts, choices):
    labels = dict(choices.choices)
    return [{"code": k, "label": labels.get(k, k), "count": v} for k, v in counts.items()]


def _round(v):
    return None if v is None else round(float(v), 1)


def progress(count, target) -> int:
    return 0 if not target else min(100, round(100 * count / target))
