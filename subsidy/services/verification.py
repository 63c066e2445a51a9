"""The education check of one application (SPEC §5): look the number up in the registry,
apply the rules, record the result and move the application out of `pending_chsi`.

Safe to run any number of times, concurrently too: the decision is written under a row lock
(SELECT … FOR UPDATE) and only while the application is still `pending_chsi`, so two
deliveries of the same task give one transition and one audit record. The registry call
happens outside any transaction and without holding a database connection (see
`_db_phase`) — a slow registry never holds locks or PostgreSQL connections.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from subsidy.models import Application, ApplicationStatus, ApplicationType
from subsidy.registry import conf, rules
from subsidy.registry.client import Found, NotFound, RegistryClient, Unavailable, default_client
from unions.pii import mask_id_number

logger = logging.getLogger(__name__)

UNAVAILABLE = "unavailable"
ALREADY_DECIDED = "already_decided"
MISSING = "missing"


@dataclass(frozen=True)
class CheckResult:
    code: str  # a rules outcome code, or UNAVAILABLE / ALREADY_DECIDED / MISSING
    detail: str = ""
    retry_after: float | None = None

    @property
    def retry(self) -> bool:
        return self.code == UNAVAILABLE


_slots_lock = threading.Lock()
_slots: threading.BoundedSemaphore | None = None


def _db_slots() -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(int(conf.get("REGISTRY_DB_CONCURRENCY")))
        return _slots


@contextmanager
def _db_phase(release: bool):
    """A short database phase. With `release` (a worker thread), at most
    REGISTRY_DB_CONCURRENCY threads of this process use the database at once and each hands
    its connection back afterwards, so a worker with 64 threads waiting on the registry holds
    a handful of PostgreSQL connections, not 64."""
    if not release:
        yield
        return
    slots = _db_slots()
    slots.acquire()
    try:
        yield
    finally:
        try:
            if not connection.in_atomic_block:
                connection.close()
        finally:
            slots.release()


def record_snapshot(number: str, lookup, applicant_id: str) -> dict:
    """What the registry said, for reviewers (institution, major beside the job position).
    The registry's ID number is kept masked: the column is not encrypted, and the comparison
    has been made."""
    if isinstance(lookup, NotFound):
        return {"result": "not_found", "number": number}
    r = lookup.record
    data = {k: v for k, v in r.raw.items() if k != "id_number"}
    data.update(
        result="found",
        kind=r.kind,
        id_number=mask_id_number(r.id_number),
        id_number_matches=rules._same_id(r.id_number, applicant_id),
    )
    return data


def check(
    application_id: int, client: RegistryClient | None = None, release_connection=False
) -> CheckResult:
    client = client or default_client()

    with _db_phase(release_connection):
        app = Application.objects.select_related("campaign").filter(pk=application_id).first()
        if app is None:
            return CheckResult(MISSING)
        if app.status != ApplicationStatus.PENDING_CHSI:
            return CheckResult(ALREADY_DECIDED, app.status)
        Application.objects.filter(pk=app.pk).update(registry_attempts=F("registry_attempts") + 1)
        campaign, kind, number = app.campaign, app.kind, app.study_number
        name, id_number = app.name, app.id_number

    if kind == ApplicationType.SELF_STUDY:
        lookup = client.lookup_certificate(number)
    else:
        lookup = client.lookup_student(number)

    if isinstance(lookup, Unavailable):
        logger.warning(
            "registry unavailable for application %s (%s); it stays pending_chsi",
            application_id,
            lookup.reason,
        )
        return CheckResult(UNAVAILABLE, lookup.reason, getattr(lookup, "retry_after", None))
    assert isinstance(lookup, Found | NotFound)
    outcome = rules.evaluate(kind, name, id_number, lookup, campaign)
    snapshot = record_snapshot(number, lookup, id_number)
    return _decide(application_id, outcome, snapshot, release_connection)


def _decide(application_id, outcome: rules.Outcome, snapshot: dict, release_connection):
    with _db_phase(release_connection), transaction.atomic():
        # Lock only the application row (not the campaign: intake locks that one, R1).
        app = Application.objects.select_for_update().get(pk=application_id)
        if app.status != ApplicationStatus.PENDING_CHSI:
            return CheckResult(ALREADY_DECIDED, app.status)
        app.registry_record = snapshot
        app.registry_checked_at = timezone.now()
        app.registry_outcome = outcome.code
        if outcome.passed:
            app.registry_reason = ""
            app.registry_pass(by=None, reason="")
        else:
            app.registry_fail(by=None, reason=outcome.reason)
        app.save()
    logger.info("registry check of application %s: %s", application_id, outcome.code)
    return CheckResult(outcome.code, outcome.reason)
