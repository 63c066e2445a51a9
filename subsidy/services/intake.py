"""Submission of an application (SPEC §4 step 4) under the caps: R1, R4 and R6, atomically.

The campaign row is the lock. Inside one short transaction (pretix's locking recipe: lock as
late as possible but before re-counting, count after locking, READ COMMITTED):

    SELECT … FROM subsidy_campaign WHERE id = … FOR UPDATE   (lock_timeout 2 s)
    re-check intake: window, manual close, cap (applicant_count), quota     — R4, R1
    re-check the member's attempts: city_rejected? an active one?             — R6
    applicant_count += 1 if the member never submitted in this campaign       — R1
    last_queue_number += 1                                                    — the queue
    INSERT the application with the server's timestamp; dispatch the registry check on commit

The lock protects R1 (at most `application_cap` distinct members), R4 (nobody enters after the
cap, the quota or the window closed it) and R6 (one active application per member; the partial
unique index `one_active_application_per_member` is the backstop), and makes queue numbers
strictly increasing in commit order. Everything slow happens before it: form validation, photo
decoding and re-encoding, writing the photo file. A lock that cannot be had within
LOCK_TIMEOUT answers "系统繁忙，请稍后重试" (HTTP 503, Retry-After), never a 500.

`settings.INTAKE_LOCKING = False` (tests only) skips the row lock so the control test can show
the over-admission the lock prevents; `settings.INTAKE_RACE_DELAY` (tests only) widens the gap
between the count and the insert to make that race deterministic.
"""

import copy
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from subsidy.models import Application, ApplicationStatus, Campaign
from subsidy.registry.pipeline import dispatch_check
from subsidy.services import eligibility, uploads

log = logging.getLogger(__name__)

LOCK_TIMEOUT = "2s"
BUSY_RETRY_AFTER = 3


@dataclass
class IntakeRefused(Exception):
    """A submission the rules refuse: `code` is one of SPEC §4 step 2's, or `busy`."""

    code: str
    detail: str
    status_code: int = 409
    retry_after: int | None = None

    def __str__(self):
        return self.detail


def _refusal(r: eligibility.Reason) -> IntakeRefused:
    status = 403 if r.code in ("not_member", "union_not_eligible", "already_granted") else 409
    return IntakeRefused(r.code, r.detail, status_code=status)


def busy() -> IntakeRefused:
    return IntakeRefused(
        "busy", "系统繁忙，请稍后重试", status_code=503, retry_after=BUSY_RETRY_AFTER
    )


def find_replay(member, idempotency_key: str | None) -> Application | None:
    if not idempotency_key:
        return None
    return Application.objects.filter(member=member, idempotency_key=idempotency_key).first()


def submit(
    member, campaign: Campaign, data: dict, idempotency_key: str | None = None
) -> Application:
    """Store one application for `member` or raise IntakeRefused.

    `data` is `ApplicationForm.submission_data()`. A retry with the same idempotency key
    returns the application the first request created (`app.replayed = True`).
    """
    key = (idempotency_key or "")[:64]
    replay = find_replay(member, key)
    if replay is not None:
        replay.replayed = True
        return replay
    # The friendly early answer, without the lock: most refusals never reach it.
    reasons = eligibility.check(member, campaign)
    if reasons:
        return _raise_unless_replay(member, key, _refusal(reasons[0]))
    photo = uploads.store(data["photo_jpeg"]) if data.get("photo_jpeg") else ""
    try:
        app = _insert_locked(member, campaign, data, key, photo)
    except IntegrityError:
        uploads.delete(photo)
        # Two requests with one key, or the R6 index caught a double submission.
        replay = find_replay(member, key)
        if replay is not None:
            replay.replayed = True
            return replay
        raise _refusal(eligibility.reason("active_application"))
    except OperationalError as exc:
        uploads.delete(photo)
        if _is_lock_timeout(exc):
            log.warning("intake lock timeout on campaign %s", campaign.pk)
            raise busy()
        raise
    except IntakeRefused as exc:
        uploads.delete(photo)
        return _raise_unless_replay(member, key, exc)
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


def _lock_campaign(campaign: Campaign, locking: bool) -> Campaign:
    """Take the campaign row lock (first statement after it counts) and read the counters.
    On PostgreSQL the lock timeout and the locking SELECT go in one round trip: every round
    trip inside the critical section is paid by everyone queued behind it."""
    select = (
        "SELECT applicant_count, application_cap, quota, intake_closed_manually, opens_at, "
        f"closes_at FROM subsidy_campaign WHERE id = {int(campaign.pk)}"
    )
    if connection.vendor != "postgresql":
        # SQLite (the embedded default): the IMMEDIATE write transaction serialises submissions.
        return Campaign.objects.get(pk=campaign.pk)
    with connection.cursor() as cur:
        if locking:
            cur.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'; {select} FOR UPDATE")
            cur.nextset()
        else:
            cur.execute(select)
        row = cur.fetchone()
    locked = copy.copy(campaign)
    (
        locked.applicant_count,
        locked.application_cap,
        locked.quota,
        locked.intake_closed_manually,
        locked.opens_at,
        locked.closes_at,
    ) = row
    return locked


def _insert_locked(member, campaign: Campaign, data: dict, key: str, photo: str) -> Application:
    with transaction.atomic():
        locked = _lock_campaign(campaign, getattr(settings, "INTAKE_LOCKING", True))
        # Count after locking: city approvals (quota) and this member's attempts, one query.
        with connection.cursor() as cur:
            cur.execute(
                "SELECT status, 0 FROM subsidy_application WHERE campaign_id = %s AND member_id = %s "
                "UNION ALL SELECT '', count(*) FROM subsidy_application WHERE campaign_id = %s "
                "AND city_approved_at IS NOT NULL AND status <> %s",
                [locked.pk, member.pk, locked.pk, ApplicationStatus.REVOKED],
            )
            rows = cur.fetchall()
        statuses = [status for status, _ in rows if status]
        approved = next(n for status, n in rows if not status)
        refused = eligibility.intake_reasons(locked, approved=approved)  # R1, R4
        if refused:
            raise _refusal(refused[0])
        refused = eligibility.reasons_from_statuses(statuses)  # R6
        if refused:
            raise _refusal(refused[0])
        previous = len(statuses)
        delay = getattr(settings, "INTAKE_RACE_DELAY", 0)
        if delay:
            time.sleep(delay)
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE subsidy_campaign SET applicant_count = applicant_count + %s, "
                "last_queue_number = last_queue_number + 1 WHERE id = %s "
                "RETURNING last_queue_number",
                [0 if previous else 1, locked.pk],
            )
            (queue_number,) = cur.fetchone()
        app = Application.objects.create(
            campaign=campaign,
            member=member,
            attempt=previous + 1,
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
            submitted_at=timezone.now(),
            queue_number=queue_number,
        )
        dispatch_check(app.pk)
    return app
