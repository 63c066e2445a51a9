"""Submission of an application (SPEC §4 step 4) under the caps: R1, R4 and R6, atomically.

The campaign row is the lock (pretix's recipe: lock inside the transaction, as late as
possible but before counting; count after locking; READ COMMITTED; a short lock timeout
turned into a clear "busy" answer). On PostgreSQL the critical section is one statement, sent
with its transaction as one string, so the lock is taken and released within one round trip
and no Python runs while it is held:

    BEGIN; SET LOCAL lock_timeout = '2s';
    WITH claim AS (
      UPDATE subsidy_campaign SET applicant_count += first?, last_queue_number += 1
        WHERE id = … AND window open AND not closed by hand
          AND applicant_count < application_cap AND city approvals < quota
        RETURNING last_queue_number, clock_timestamp()      — takes the row lock, counts after it
    ) INSERT the application (that queue number, that server time) SELECT … FROM claim;
    COMMIT                                                  — releases the lock

The UPDATE is the SELECT … FOR UPDATE and the re-count in one: it waits for the row lock, and
PostgreSQL re-evaluates its WHERE on the newest committed row once it holds it; when it
refuses, the INSERT has no row to insert. The registry check is dispatched once it committed.

The lock protects R1 (at most `application_cap` distinct members submit; a resubmission does
not count again), R4 (nobody gets in after the cap, the quota, the window or a manual close
shut intake — resubmissions included), and the queue: numbers strictly increase with the
server timestamps. R6 (one active application per member; never again after city_rejected) is
read before the lock and held by the partial unique index `one_active_application_per_member`:
an IntegrityError becomes the `active_application` / `city_rejected` refusal, never a 500.
Everything slow happens before the transaction: form validation, the photo's check and
keeping the photo as received (its re-encoding comes later). A lock not had within
LOCK_TIMEOUT answers "系统繁忙，请稍后重试" (HTTP 503, Retry-After), never a 500.

The test hook `intake_locking` off (testhooks; control tests only) replaces the guarded UPDATE
by read-check-write so the control test can show the over-admission the lock prevents;
`intake_race_delay` widens the gap between the count and the write to make that race
deterministic.
"""

import functools
import logging
from dataclasses import dataclass

from django.db import (
    DEFAULT_DB_ALIAS,
    IntegrityError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.utils import timezone

import testhooks
from registry.pipeline import dispatch_check
from subsidy import codes
from subsidy.models import Application, ApplicationStatus, Campaign, sql_literals
from subsidy.refcache import intake_campaign
from subsidy.services import eligibility, prepared, uploads

log = logging.getLogger(__name__)

LOCK_TIMEOUT = "2s"
BUSY_RETRY_AFTER = 3


@dataclass
class IntakeRefused(Exception):
    """A submission the rules refuse: `code` is one of SPEC §4 step 2's, or `busy`."""

    code: str
    detail: str = ""
    status_code: int | None = None  # the code's (subsidy.codes)
    retry_after: int | None = None

    def __post_init__(self):
        self.detail = self.detail or codes.text(self.code)
        self.status_code = codes.check_status(self.code, self.status_code)

    def __str__(self):
        return self.detail


def _refusal(r: eligibility.Reason) -> IntakeRefused:
    return IntakeRefused(r.code, r.detail)


def busy() -> IntakeRefused:
    return IntakeRefused("busy", retry_after=BUSY_RETRY_AFTER)


def find_replay(member, idempotency_key: str | None) -> Application | None:
    if not idempotency_key:
        return None
    return Application.objects.filter(member=member, idempotency_key=idempotency_key).first()


@dataclass
class Prechecked:
    """What precheck() read, handed to submit() so it is not read twice: the statuses of the
    member's attempts in the campaign (R6 and whether R1 counts the member again)."""

    statuses: list


def precheck(member, campaign: Campaign, idempotency_key: str | None = None):
    """Before the form is even validated: the refusal of the entry check (raised) — so a late
    arrival is refused without the cost of decoding its photo — or, when the request is a
    retry of one that already created an application, that application (returned). A retry
    is always refused by the entry check (its first request made an application active), so
    the idempotency key is looked up only then: a first request costs no look-up.
    Otherwise returns a `Prechecked`. Not a guarantee: submit() re-counts under the lock."""
    key = (idempotency_key or "")[:64]
    statuses, granted = eligibility.submission_facts(member, campaign)
    reasons = eligibility.check(
        member, campaign, check_quota=False, statuses=statuses, granted=granted
    )
    if reasons:
        replay = find_replay(member, key)
        if replay is not None:
            replay.replayed = True
            return replay
        raise _refusal(reasons[0])
    return Prechecked(statuses)


def submit(
    member,
    campaign: Campaign,
    data: dict,
    idempotency_key: str | None = None,
    prechecked: "Prechecked | None" = None,
) -> Application:
    """Store one application for `member` or raise IntakeRefused.

    `data` is `ApplicationForm.submission_data()`. A retry with the same idempotency key
    returns the application the first request created (`app.replayed = True`).
    `prechecked`: what precheck() returned, when the caller has just run it for this request.
    """
    key = (idempotency_key or "")[:64]
    if prechecked is None:
        prechecked = precheck(member, campaign, key)
        if isinstance(prechecked, Application):
            return prechecked
    # Stored as received (verified by the form); re-encoded by the registry check.
    photo = uploads.receive(data["photo"]) if data.get("photo") else ""
    try:
        app = _insert_locked(member, campaign, data, key, photo, prechecked.statuses)
    except IntegrityError:
        uploads.delete(photo)
        # Two requests with one key, or the R6 index caught a double submission.
        replay = find_replay(member, key)
        if replay is not None:
            replay.replayed = True
            return replay
        reasons = eligibility.application_reasons(member, campaign)
        raise _refusal(reasons[0] if reasons else eligibility.reason("active_application"))
    except OperationalError as exc:
        uploads.delete(photo)
        if _is_lock_timeout(exc):
            log.warning("intake lock timeout on campaign %s", campaign.pk)
            raise busy()
        raise
    except IntakeRefused as exc:
        uploads.delete(photo)
        return _raise_unless_replay(member, key, exc)
    except BaseException:
        uploads.delete(photo)  # whatever failed, the photo as received does not stay
        raise
    app.replayed = False
    return app


def _raise_unless_replay(member, key: str, exc: IntakeRefused) -> Application:
    """A retry racing its own first request finds that request's application committed."""
    if exc.code == "active_application":
        replay = find_replay(member, key)
        if replay is not None:
            replay.replayed = True
            return replay
    raise exc


def _is_lock_timeout(exc: OperationalError) -> bool:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) == "55P03" or "lock timeout" in str(exc)


# The lock and the count in one statement: UPDATE takes the campaign row lock, and under READ
# COMMITTED PostgreSQL re-evaluates the WHERE on the newest committed version of the row once
# it holds the lock — so the cap, the manual close and the window are counted after locking,
# and the counters move only if they still allow it (R1, R4). The quota's count of city
# approvals rides along as a sub-select.
CLAIM_PLACE = (
    "UPDATE subsidy_campaign "
    "SET applicant_count = applicant_count + %s, last_queue_number = last_queue_number + 1 "
    "WHERE id = %s AND NOT intake_closed_manually AND opens_at <= %s AND closes_at > %s "
    "AND applicant_count < application_cap "
    "AND (SELECT count(*) FROM subsidy_application a WHERE a.campaign_id = %s "
    f"AND a.city_approved_at IS NOT NULL AND a.stage <> {sql_literals(ApplicationStatus.REVOKED)}) < quota "
    "RETURNING last_queue_number"
)
# Without the lock (tests only): the count is read first and the counters move blindly.
BUMP_COUNTERS = (
    "UPDATE subsidy_campaign "
    "SET applicant_count = applicant_count + %s, last_queue_number = last_queue_number + 1 "
    "WHERE id = %s RETURNING last_queue_number"
)


def _claim_place(campaign: Campaign, first: bool) -> int:
    """Lock the campaign row, re-check intake, bump the counters; return the queue number.
    (The path of other databases; PostgreSQL claims and inserts in one statement.)"""
    now = timezone.now()
    with connection.cursor() as cur:
        cur.execute(CLAIM_PLACE, [int(first), campaign.pk, now, now, campaign.pk])
        row = cur.fetchone()
    if row is None:
        _refuse_from_fresh_read(campaign, now)
    return row[0]


def _refuse_from_fresh_read(campaign: Campaign, now):
    """The lock refused: say why from a fresh read (window first, else the cap/quota/manual
    close)."""
    fresh = Campaign.objects.get(pk=campaign.pk)
    intake_campaign.put(fresh)  # the next arrivals are refused before their photo is read
    reasons = eligibility.intake_reasons(fresh, now) or [eligibility.reason("intake_closed")]
    raise _refusal(reasons[0])


def _claim_place_unlocked(campaign: Campaign, first: bool) -> int:
    """The control: read, check, (wait), write — the race the lock prevents."""
    fresh = Campaign.objects.get(pk=campaign.pk)
    refused = eligibility.intake_reasons(fresh)
    if refused:
        raise _refusal(refused[0])
    testhooks.pause("intake_race_delay")
    with connection.cursor() as cur:
        cur.execute(BUMP_COUNTERS, [int(first), campaign.pk])
        return cur.fetchone()[0]


def _insert_locked(
    member, campaign: Campaign, data: dict, key: str, photo: str, statuses: list
) -> Application:
    # R6 before the lock, from the member's own attempts as precheck() read them. Two parallel
    # submissions of one member both pass here; the partial unique index refuses the second
    # insert (IntegrityError).
    refused = eligibility.reasons_from_statuses(statuses)
    if refused:
        raise _refusal(refused[0])
    first = not statuses  # R1 counts distinct members: a resubmission does not count again
    app = Application(
        campaign=campaign,
        member=member,
        attempt=len(statuses) + 1,
        union=member.union,
        name=member.name,
        id_number=member.id_number,
        mobile=member.mobile,
        kind=data["kind"],
        study_number=data["study_number"],
        worker_group=data["worker_group"],
        hukou=data["hukou"],
        job_position=data["job_position"],
        bank_account=data["bank_account"],
        bank_branch=data["bank_branch"],
        bin_unknown=data.get("bin_unknown", False),
        bank_card_photo=photo,
        union_contact_phone=data["union_contact_phone"],
        commitment=data["commitment"],
        notify_opt_in=data.get("notify_opt_in", False),
        idempotency_key=key,
    )
    app.derive_look_ups()
    if not testhooks.on("intake_locking"):
        with transaction.atomic():
            app.queue_number = _claim_place_unlocked(campaign, first)
            _insert_now(app)
    elif connection.vendor == "postgresql":
        _claim_and_insert(app, campaign, first)
    else:
        with transaction.atomic():
            app.queue_number = _claim_place(campaign, first)
            _insert_now(app)
    # The check is queued when this commits (at once, unless a caller's transaction is open).
    dispatch_check(app.pk, marked_at=app.registry_dispatched_at)
    return app


def _insert_now(app: Application) -> None:
    app.submitted_at = app.registry_dispatched_at = timezone.now()
    app.save(force_insert=True)


# Columns the claim fills in: the queue number, and the time, read once the lock is held.
FROM_CLAIM = ("queue_number", "submitted_at", "registry_dispatched_at")


@functools.cache
def _claim_and_insert_sql() -> tuple[str, list]:
    """CLAIM_PLACE and the INSERT of the application as one statement: the INSERT reads its
    queue number and time from the UPDATE's RETURNING, so it inserts nothing when the UPDATE
    refused. Returns (sql, the fields whose values follow CLAIM_PLACE's parameters)."""
    quote = connection.ops.quote_name
    concrete = Application._meta.concrete_fields
    fields = [
        f for f in concrete if not f.primary_key and not f.generated and f.name not in FROM_CLAIM
    ]
    columns = [quote(f.column) for f in fields] + [quote(name) for name in FROM_CLAIM]
    claim = CLAIM_PLACE.replace(
        "RETURNING last_queue_number", "RETURNING last_queue_number AS n, clock_timestamp() AS t"
    )
    # Each value cast to its column's type (without a length: a cast would cut, not refuse),
    # as a prepared statement's parameters in a SELECT list have no type of their own.
    values = [f"%s::{_unbounded(f.cast_db_type(connection))}" for f in fields]
    sql = (
        f"WITH claim AS ({claim}) "
        f"INSERT INTO {quote(Application._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)}, n, t, t FROM claim "
        "RETURNING id, stage, queue_number, submitted_at"
    )
    return sql, fields


def _unbounded(db_type: str) -> str:
    return "varchar" if db_type.startswith("varchar(") else db_type


def _claim_and_insert(app: Application, campaign: Campaign, first: bool) -> None:
    """PostgreSQL: the critical section is one statement, and no Python runs inside it.

    Outside a caller's transaction (every request) BEGIN, the lock timeout, the claim-and-
    insert and COMMIT travel to the server as one string: the campaign row is locked and
    released within that single round trip. With the lock held across separate statements,
    the holder had to win the interpreter back (GIL) from the threads parsing other uploads
    between each of them — milliseconds every queued submission waited for. Inside a
    caller's transaction (tests) the same statement runs in a savepoint."""
    sql, fields = _claim_and_insert_sql()
    now = timezone.now()
    db = connections[DEFAULT_DB_ALIAS]  # this thread's: every `connection.x` is a look-up
    params = [int(first), campaign.pk, now, now, campaign.pk]
    params += [f.get_db_prep_save(f.pre_save(app, True), db) for f in fields]
    sql, params = prepared.statement("claim_and_insert", sql, params)
    with db.cursor() as cur:
        if db.in_atomic_block:
            with transaction.atomic():
                cur.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                cur.execute(sql, params)
                row = cur.fetchone()
        else:
            row = _in_one_round_trip(db, cur, sql, params)
    if row is None:
        _refuse_from_fresh_read(campaign, now)
    app.pk, app.stage, app.queue_number, app.submitted_at = row
    app.registry_dispatched_at = app.submitted_at
    app._state.adding = False
    app._state.db = db.alias


def _in_one_round_trip(db, cur, sql: str, params: list):
    """Run `sql` in its own transaction, sent with BEGIN and COMMIT as one string (the
    driver binds the parameters on the client, so several statements may share a call)."""
    from psycopg.pq import TransactionStatus

    try:
        cur.execute(f"BEGIN; SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'; {sql}; COMMIT", params)
    except BaseException:
        # The statements after the failing one were skipped: end the transaction we opened.
        if db.connection.info.transaction_status != TransactionStatus.IDLE:
            try:
                cur.execute("ROLLBACK")
            except Exception:  # a broken connection: Django replaces it
                log.warning("intake: rollback after a failed claim did not complete")
        raise
    while cur.description is None and cur.nextset():
        pass  # BEGIN and SET return no rows; the INSERT's RETURNING does
    return cur.fetchone()
