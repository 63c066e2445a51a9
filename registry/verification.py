"""The education check of one application (SPEC §5): look the number up in the registry,
apply the rules, record the result and move the application out of `pending_chsi`.

Safe to run any number of times, concurrently too: the decision is written under a row lock
(SELECT … FOR UPDATE) and only while the application is still `pending_chsi`, so two
deliveries of the same task give one transition and one audit record. The registry call
happens outside any transaction and, in a worker, outside the few database threads (see
`_run_db`) — a slow registry never holds locks or PostgreSQL connections.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.db import close_old_connections, transaction
from django.db.models import F
from django.utils import timezone

from registry import conf, rules
from registry.client import Found, NotFound, RegistryClient, Unavailable
from registry.ratelimit import default_client
from subsidy.models import Application, ApplicationStatus, ApplicationType
from subsidy.services import uploads
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


_executor_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _db_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=int(conf.get("REGISTRY_DB_CONCURRENCY")),
                thread_name_prefix="registry-db",
            )
        return _executor


def _run_db(fn, *args, offload: bool):
    """Run a short database phase. With `offload` (a worker thread), it runs on one of
    REGISTRY_DB_CONCURRENCY database threads of this process, each keeping its own
    persistent connection: a worker with 64 threads waiting on the registry holds a handful
    of PostgreSQL connections, not 64, and never reconnects per task."""
    if not offload:
        return fn(*args)

    def run():
        close_old_connections()  # drop a broken or too old connection, as a request would
        return fn(*args)

    return _db_executor().submit(run).result()


@dataclass(frozen=True)
class _Pending:
    kind: str
    number: str
    name: str
    id_number: str
    campaign: object


def _claim(application_id):
    """Count the attempt and read what the lookup needs — or say why there is nothing to do."""
    counted = Application.objects.filter(
        pk=application_id, status=ApplicationStatus.PENDING_CHSI
    ).update(registry_attempts=F("registry_attempts") + 1)
    if not counted:
        status = (
            Application.objects.filter(pk=application_id).values_list("status", flat=True).first()
        )
        return CheckResult(MISSING) if status is None else CheckResult(ALREADY_DECIDED, status)
    row = (
        Application.objects.select_related("campaign")
        .only(
            "kind",
            "study_number",
            "name",
            "id_number",
            "campaign__eligible_from",
            "campaign__eligible_until",
        )
        .get(pk=application_id)
    )
    return _Pending(row.kind, row.study_number, row.name, row.id_number, row.campaign)


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
    application_id: int, client: RegistryClient | None = None, offload_db=False
) -> CheckResult:
    client = client or default_client()
    claim = _run_db(_claim, application_id, offload=offload_db)
    if isinstance(claim, CheckResult):
        return claim
    # The photo as received becomes its re-encoded copy before anyone but the applicant can
    # see it (district and city reviewers may open a pending_chsi row, attachment 3).
    _run_db(uploads.finalize_application_photo, application_id, offload=offload_db)

    if claim.kind == ApplicationType.SELF_STUDY:
        lookup = client.lookup_certificate(claim.number)
    else:
        lookup = client.lookup_student(claim.number)

    if isinstance(lookup, Unavailable):
        logger.warning(
            "registry unavailable for application %s (%s); it stays pending_chsi",
            application_id,
            lookup.reason,
        )
        return CheckResult(UNAVAILABLE, lookup.reason, getattr(lookup, "retry_after", None))
    assert isinstance(lookup, Found | NotFound)
    outcome = rules.evaluate(claim.kind, claim.name, claim.id_number, lookup, claim.campaign)
    snapshot = record_snapshot(claim.number, lookup, claim.id_number)
    return _run_db(_decide, application_id, outcome, snapshot, offload=offload_db)


def _decide(application_id, outcome: rules.Outcome, snapshot: dict):
    with transaction.atomic():
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
