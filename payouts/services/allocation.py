"""Allocation (R2, R3, R4): who among the city-approved applications is funded.

Ranking (R3, notice 五(八)): the campaign's city-approved, non-revoked applications ordered by
(submitted_at, city_approved_at, queue_number); the first `quota` are `funded`, the rest
`waitlisted`; fewer than `quota` approved → all funded.

The ranking and the write are ONE set-based statement: the first `quota` candidates in R3's
order (ORDER BY … LIMIT on an index) and the funded or approved ones outside them are the rows
whose status must change, and the same `UPDATE … FROM` writes exactly those, under the
campaign's payout lock (`locking.lock_campaign`), so two runs never interleave (R2 under
concurrency). Only rows whose status really changes are written, audited and announced
(through `subsidy.services.transitions.record_bulk_transitions`).

After publication (R7) `funded` is frozen: allocation never waitlists a funded row again. A late
city approval (a deadline extended for one union, or a city override of an overdue row —
publication after the city's deadline leaves such rows out, R8) is funded only into a free
place, best-ranked first among it and the waitlist, and goes on the supplementary list
(补充公示); without a free place it joins the waitlist, which is then truly "名额已满".
`revocation.revoke` frees places after publication and promotes from the waitlist.
"""

from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count

from payouts.services.locking import lock_campaign
from payouts.services.supplementary import list_supplementary
from subsidy.models import RANK_ORDER, Application, ApplicationStatus, Campaign, sql_literals
from subsidy.services.transitions import record_bulk_transitions

S = ApplicationStatus
TABLE = Application._meta.db_table

# Before publication: the first `quota` candidates in R3's order must be funded, every other
# funded or approved one waitlisted — so only two sets are read: the head (ORDER BY … LIMIT
# quota, `app_rank_order` in order) and the funded/approved rows outside it. The candidates are
# the `approved` stage (approved, funded, waitlisted: Application.stage), which the indexes
# carry; their status comes from the heap. Both are set-based reads. The write changes only
# `status`, which no index contains: heap-only (HOT) updates.
# The statuses the statements below name, as SQL literals built from ApplicationStatus.
APPROVED, FUNDED, WAITLISTED = (sql_literals(s) for s in (S.APPROVED, S.FUNDED, S.WAITLISTED))
_CHANGES_BEFORE_PUBLICATION = f"""
WITH head AS MATERIALIZED (
    SELECT id, status FROM {TABLE}
    WHERE campaign_id = %s AND stage = {APPROVED}
    ORDER BY submitted_at, city_approved_at, queue_number
    LIMIT %s
)
SELECT id, status, {FUNDED} FROM head WHERE status <> {FUNDED}
UNION ALL
SELECT id, status, {WAITLISTED} FROM {TABLE}
WHERE campaign_id = %s AND stage = {APPROVED} AND status IN ({APPROVED}, {FUNDED})
  AND id NOT IN (SELECT id FROM head)
"""

# After publication (R7): funded, paid and payment_failed keep their status. A place that is
# free (fewer of them than the quota: fewer approved than places, or a revocation nobody was
# waiting for) goes to the best-ranked of the waitlisted and the late approvals — the free
# places are counted under the lock and passed in — and every other late approval joins the
# waitlist. Whoever is funded now goes on the supplementary list (`supplementary`).
_CHANGES_AFTER_PUBLICATION = f"""
WITH head AS MATERIALIZED (
    SELECT id, status FROM {TABLE}
    WHERE campaign_id = %s AND stage = {APPROVED} AND status IN ({APPROVED}, {WAITLISTED})
    ORDER BY submitted_at, city_approved_at, queue_number
    LIMIT %s
)
SELECT id, status, {FUNDED} FROM head
UNION ALL
SELECT id, status, {WAITLISTED} FROM {TABLE}
WHERE campaign_id = %s AND stage = {APPROVED} AND status = {APPROVED}
  AND id NOT IN (SELECT id FROM head)
"""

# PostgreSQL: the ranking and the write are ONE statement — the changes as a MATERIALIZED CTE
# joined to the table by primary key — so the first allocation of 100,000 rows never ships
# 100,000 (id, old, new) triples to Python and back (0.3–0.4 s of the 100k case). The
# `status <> new` guard is re-checked on the newest row version (READ COMMITTED).
_RANK_AND_APPLY = """
WITH changes AS MATERIALIZED ({changes})
UPDATE {table} AS a SET status = c.new_status
FROM changes AS c(id, old_status, new_status)
WHERE a.id = c.id AND a.status <> c.new_status
RETURNING a.id, c.old_status, a.status
"""

_JOINS_NOW = "SELECT current_setting('enable_hashjoin'), current_setting('enable_mergejoin')"
_SET_JOINS = (
    "SELECT set_config('enable_hashjoin', %s, true), set_config('enable_mergejoin', %s, true)"
)

TRANSITION_NAMES = {S.FUNDED: "fund", S.WAITLISTED: "waitlist"}
LATE_PLACE_REASON = "名单公示后尚有名额，列入补充公示"


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


def _changes_sql(published: bool) -> str:
    return _CHANGES_AFTER_PUBLICATION if published else _CHANGES_BEFORE_PUBLICATION


def _run_ranking(campaign: Campaign) -> list[tuple[int, str, str]]:
    """Rank and write the changes in one set-based statement; return [(id, source, target)]
    of the rows whose status changed. The caller holds the lock."""
    published = campaign.is_published
    places = free_places(campaign) if published else campaign.quota
    params = [campaign.pk, places, campaign.pk]
    changes = _changes_sql(published)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # The planner cannot know how many rows change (two after a late approval, all of
            # them on a first run) and estimates thousands: it would hash the whole table
            # (70 ms at 100k) to update two rows. A nested loop over the primary key costs what
            # is written: 3 ms for two rows, the same 2.6–3 s as the hash join for 100,000.
            cur.execute(_JOINS_NOW)
            saved = cur.fetchone()
            # For this transaction only (a failed statement rolls the setting back with it),
            # and restored at once for whatever the caller's transaction runs next.
            cur.execute(_SET_JOINS, ["off", "off"])
            cur.execute(_RANK_AND_APPLY.format(changes=changes, table=TABLE), params)
            moved = [tuple(row) for row in cur.fetchall()]
            cur.execute(_SET_JOINS, list(saved))
            return moved
        # SQLite (development): rank, then write; its write transaction is exclusive anyway.
        cur.execute(changes, params)
        rows = cur.fetchall()
        cur.executemany(
            f"UPDATE {TABLE} SET status = %s WHERE id = %s AND status <> %s",
            [(target, pk, target) for pk, _source, target in rows],
        )
        return [(pk, source, target) for pk, source, target in rows]


def free_places(campaign: Campaign) -> int:
    """Places not held by a funded, paid or failed-payment application (R2). Read under the
    campaign lock."""
    taken = (
        Application.objects.in_status(S.FUNDED, S.PAID, S.PAYMENT_FAILED)
        .filter(campaign=campaign)
        .count()
    )
    return max(campaign.quota - taken, 0)


def allocate(campaign: Campaign | int, actor=None, reason: str = "名额分配") -> AllocationResult:
    """Rank and (re)allocate one campaign now. Safe to run any number of times, from any
    number of workers at once: every run under the lock reaches the same state (R2, R3)."""
    campaign_id = campaign.pk if isinstance(campaign, Campaign) else campaign
    with transaction.atomic():
        lock_campaign(campaign_id)
        # Read the campaign after taking the lock: publication may just have committed.
        campaign = Campaign.objects.get(pk=campaign_id)
        moved = _run_ranking(campaign)
        if campaign.is_published:
            funded = [m for m in moved if m[2] == S.FUNDED]
            list_supplementary(campaign, [(pk, None, LATE_PLACE_REASON) for pk, _s, _t in funded])
            _audit_moved(funded, actor, LATE_PLACE_REASON)
            _audit_moved(
                [m for m in moved if m[2] != S.FUNDED], actor, "补助名额已满，列入候补名单"
            )
        else:
            _audit_moved(moved, actor, reason)
        counts = dict(
            Application.objects.in_status(S.FUNDED, S.WAITLISTED)
            .filter(campaign_id=campaign_id)
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
    record_bulk_transitions(
        [(app_id, TRANSITION_NAMES[target], source, target) for app_id, source, target in moved],
        actor=actor,
        reason=reason,
    )


def allocate_year(year: int, actor=None) -> AllocationResult:
    return allocate(Campaign.objects.get(year=year), actor=actor)


def ranking_order():
    """The R3 order as ORM fields, for callers that need one row (promotion, tests)."""
    return list(RANK_ORDER)
