"""The reviewer's queue: scoping (through `visible_to`), filters, search, counts per status
and the overdue mark — one function the HTML dashboard, the API list and the export share."""

import re
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from subsidy.models import (
    PENDING_FOR_LEVEL,
    PRIORITY_WORKER_GROUPS,
    Application,
    ApplicationStatus,
    Campaign,
    WorkerGroup,
    statuses_visible_at,
)
from unions.models import ReviewerLevel, Union
from unions.pii import blind_index
from unions.validators import normalise_input

_ID_RE = re.compile(r"^[0-9]{17}[0-9X]$")
_MOBILE_RE = re.compile(r"^1[0-9]{10}$")
_DEADLINE_FIELD = {
    ReviewerLevel.GRASSROOTS: "campaign__grassroots_review_until",
    ReviewerLevel.DISTRICT: "campaign__district_review_until",
    ReviewerLevel.CITY: "campaign__city_review_until",
}


@dataclass
class QueueFilters:
    campaign: Campaign | None = None
    status: str = ""
    q: str = ""
    union: int | None = None
    worker_group: str = ""
    overdue: bool = False

    @classmethod
    def from_params(cls, params) -> "QueueFilters":
        """Parse query parameters; unknown values are ignored rather than refused. A status
        the reviewer's level does not see (grassroots: the registry check's) filters to an
        empty list through `visible_to`."""
        f = cls()
        campaign_id = params.get("campaign") or ""
        if campaign_id.isascii() and campaign_id.isdigit():
            f.campaign = Campaign.objects.filter(pk=int(campaign_id)).first()
        if f.campaign is None:
            f.campaign = Campaign.current()
        status = params.get("status") or ""
        f.status = status if status in ApplicationStatus.values else ""
        f.q = normalise_input(params.get("q") or "")[:50]
        union = params.get("union") or ""
        f.union = int(union) if union.isascii() and union.isdigit() else None
        group = params.get("worker_group") or ""
        if group == "priority" or group in WorkerGroup.values:
            f.worker_group = group
        f.overdue = params.get("overdue") in ("1", "true", "on")
        return f


def overdue_q(now=None) -> Q:
    """Pending at a level whose review deadline has passed."""
    now = now or timezone.now()
    q = Q()
    for level, status in PENDING_FOR_LEVEL.items():
        # a pending status is its own stage (Application.stage), which the indexes key on
        q |= Q(stage=status, **{f"{_DEADLINE_FIELD[level]}__lt": now})
    return q


def is_overdue(app, now=None) -> bool:
    now = now or timezone.now()
    for level, status in PENDING_FOR_LEVEL.items():
        if app.status == status:
            return app.campaign.review_deadline(level) < now
    return False


def search_q(q: str, level: str | None) -> Q:
    """Grassroots: name or mobile. District and city also: ID number (exact, through the
    blind index — the column itself is ciphertext) and union name."""
    if not q:
        return Q()
    upper = q.replace(" ", "").upper()
    if _MOBILE_RE.match(upper):
        return Q(mobile=upper)
    grassroots = level == ReviewerLevel.GRASSROOTS
    if _ID_RE.match(upper):
        return Q(pk__in=[]) if grassroots else Q(id_hmac=blind_index(upper))
    if grassroots:
        return Q(name__contains=q)
    # Union names are matched on the small union table first: no join in the big query.
    unions = list(Union.objects.filter(name__contains=q).values_list("pk", flat=True)[:500])
    return Q(name__contains=q) | Q(union_id__in=unions) if unions else Q(name__contains=q)


def base_queryset(user, filters: QueueFilters, level: str | None):
    """Everything but the status filter (the counts per status are taken over this)."""
    qs = Application.objects.visible_to(user)
    if filters.campaign is not None:
        qs = qs.filter(campaign=filters.campaign)
    qs = qs.filter(search_q(filters.q, level))
    if filters.union:
        qs = qs.filter(union_id=filters.union)
    if filters.worker_group == "priority":
        qs = qs.filter(worker_group__in=PRIORITY_WORKER_GROUPS)
    elif filters.worker_group:
        qs = qs.filter(worker_group=filters.worker_group)
    if filters.overdue:
        qs = qs.filter(overdue_q())
    return qs


def queue(user, filters: QueueFilters, level: str | None, with_counts=True):
    """(rows queryset in submission order, counts per status {code: n} or None)."""
    base = base_queryset(user, filters, level)
    counts = None
    if with_counts:
        counts = base.status_counts()
    rows = base
    if filters.status:
        rows = rows.in_status(filters.status)
    rows = rows.select_related("union", "campaign").order_by("queue_number", "pk")
    return rows, counts


def status_counts_list(counts: dict, level: str | None) -> list[tuple[str, str, int]]:
    """(code, label, count) of every status the level sees, in the order of SPEC §6."""
    return [(s, ApplicationStatus(s).label, counts.get(s, 0)) for s in statuses_visible_at(level)]
