"""Allocation (R2, R3, R4): who among the city-approved applications is funded.

Ranking (R3, notice 五(八)): the campaign's city-approved, non-revoked applications ordered by
(submitted_at, city_approved_at, queue_number); the first `quota` are `funded`, the rest
`waitlisted`; fewer than `quota` approved → all funded.

The whole ranking is ONE set-based statement — a ROW_NUMBER() window over the candidates joined
back into an `UPDATE … FROM` that writes only the rows whose status changes — under the campaign's
payout lock (`locking.lock_campaign`), so two runs never interleave (R2 under concurrency). Only rows
whose status really changes are audited and announced, through
`subsidy.services.transitions.record_bulk_transitions`.

After publication (R7) `funded` is frozen: allocation no longer funds or waitlists a funded or
waitlisted row; it only ranks and waitlists applications city-approved after publication (city
review normally ends before publication; should a late approval happen, the published list
stays as published and the newcomer waits for a place that a revocation frees). Only
`revocation.revoke` changes the funded list after publication.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count

from payouts.services.locking import lock_campaign
from subsidy.models import RANK_ORDER, Application, ApplicationStatus, Campaign
from subsidy.services.transitions import record_bulk_transitions

S = ApplicationStatus
TABLE = Application._meta.db_table

# Before publication: rank approved/funded/waitlisted; write the statuses that change.
_BEFORE_PUBLICATION = f"""
WITH ranked AS (
    SELECT id, status AS old_status,
           ROW_NUMBER() OVER (ORDER BY submitted_at, city_approved_at, queue_number) AS rn
    FROM {TABLE}
    WHERE campaign_id = %s AND status IN ('approved', 'funded', 'waitlisted'){{pause}}
), target AS (
    SELECT id, old_status, rn,
           CASE WHEN rn <= %s THEN 'funded' ELSE 'waitlisted' END AS new_status
    FROM ranked
)
UPDATE {TABLE}
SET status = target.new_status
FROM target
WHERE {TABLE}.id = target.id AND {TABLE}.status <> target.new_status
RETURNING {TABLE}.id, {TABLE}.status{{old_status}}
"""

# After publication: funded (and paid / payment_failed) keep their status; late approvals join
# the waitlist.
_AFTER_PUBLICATION = f"""
WITH ranked AS (
    SELECT id, status AS old_status,
           ROW_NUMBER() OVER (ORDER BY submitted_at, city_approved_at, queue_number) AS rn
    FROM {TABLE}
    WHERE campaign_id = %s
      AND status IN ('approved', 'funded', 'waitlisted', 'paid', 'payment_failed'){{pause}}
), target AS (
    SELECT id, old_status, rn, 'waitlisted' AS new_status
    FROM ranked WHERE old_status IN ('approved', 'waitlisted') AND %s >= 0
)
UPDATE {TABLE}
SET status = target.new_status
FROM target
WHERE {TABLE}.id = target.id
  AND {TABLE}.status IN ('approved', 'waitlisted')
  AND {TABLE}.status <> target.new_status
RETURNING {TABLE}.id, {TABLE}.status{{old_status}}
"""

TRANSITION_NAMES = {S.FUNDED: "fund", S.WAITLISTED: "waitlist"}


@dataclass
class AllocationResult:
    campaign_id: int
    funded: int = 0
    waitlisted: int = 0
    moved: list = field(default_factory=list)  # [(id, source, target)]
    published: bool = False

    @property
    def moved_count(self) -> int:
        return len(self.moved)


def _ranking_sql(published: bool) -> tuple[str, bool]:
    sql = _AFTER_PUBLICATION if published else _BEFORE_PUBLICATION
    pause = ""
    delay = getattr(settings, "PAYOUTS_ALLOCATION_TEST_DELAY", 0) or 0
    delay = float(delay() if callable(delay) else delay)
    if delay and connection.vendor == "postgresql":
        # Test-only: hold the statement's snapshot open so a control test can show what
        # happens to an unlocked run when another commits meanwhile.
        pause = f" AND EXISTS (SELECT 1 FROM pg_sleep({delay:.3f}))"
    # PostgreSQL returns the old status from the ranking in the same statement; SQLite may
    # not reference the FROM table in RETURNING, so there it is read first (its write
    # transaction is exclusive, nothing changes in between).
    returns_old = connection.vendor == "postgresql"
    return sql.format(pause=pause, old_status=", target.old_status" if returns_old else ""), (
        returns_old
    )


def _run_ranking(campaign: Campaign) -> list[tuple[int, str, str]]:
    """Execute the set-based ranking; return [(id, source, target)] of rows whose status
    changed."""
    sql, returns_old = _ranking_sql(campaign.is_published)
    old = {}
    if not returns_old:
        old = dict(
            Application.objects.filter(
                campaign_id=campaign.pk, status__in=[S.APPROVED, S.FUNDED, S.WAITLISTED]
            ).values_list("id", "status")
        )
    with connection.cursor() as cur:
        cur.execute(sql, [campaign.pk, campaign.quota])
        rows = cur.fetchall()
    moved = []
    for row in rows:
        app_id, new_status = row[0], row[1]
        source = row[2] if returns_old else old.get(app_id)
        if source != new_status:
            moved.append((app_id, source, new_status))
    return moved


def allocate(campaign: Campaign | int, actor=None, reason: str = "名额分配") -> AllocationResult:
    """Rank and (re)allocate one campaign now. Safe to run any number of times, from any
    number of workers at once: every run under the lock reaches the same state (R2, R3)."""
    campaign_id = campaign.pk if isinstance(campaign, Campaign) else campaign
    with transaction.atomic():
        lock_campaign(campaign_id)
        # Read the campaign after taking the lock: publication may just have committed.
        campaign = Campaign.objects.get(pk=campaign_id)
        moved = _run_ranking(campaign)
        _audit_moved(moved, actor, reason)
        counts = dict(
            Application.objects.filter(campaign_id=campaign_id, status__in=[S.FUNDED, S.WAITLISTED])
            .values("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
    return AllocationResult(
        campaign_id=campaign_id,
        funded=counts.get(S.FUNDED, 0),
        waitlisted=counts.get(S.WAITLISTED, 0),
        moved=moved,
        published=campaign.is_published,
    )


def _audit_moved(moved, actor, reason):
    if not moved:
        return
    ids = [m[0] for m in moved]
    apps = {
        a.pk: a
        for a in Application.objects.filter(pk__in=ids).defer(
            "id_number", "bank_account", "registry_record"
        )
    }
    entries = [
        (apps[app_id], TRANSITION_NAMES[target], source, target, actor, reason)
        for app_id, source, target in moved
    ]
    record_bulk_transitions(entries)


def allocate_year(year: int, actor=None) -> AllocationResult:
    return allocate(Campaign.objects.get(year=year), actor=actor)


def ranking_order():
    """The R3 order as ORM fields, for callers that need one row (promotion, tests)."""
    return list(RANK_ORDER)
