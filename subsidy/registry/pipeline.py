"""The boundary between submission and the registry check (SPEC §5), and the sweeper.

Submission calls `dispatch_check(application_id)` inside its transaction; the check task is
queued when that transaction commits. `registry_dispatched_at` records the last time a task
message was published (or, for a retry, when it falls due): an application still in
`pending_chsi` whose dispatch is older than REGISTRY_SWEEP_AFTER_SECONDS — or that was never
dispatched because the broker was down — has no live task, and `sweep()` sends it again.
Sending twice is harmless: the check is idempotent.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from subsidy.models import Application, ApplicationStatus
from subsidy.registry import conf

logger = logging.getLogger(__name__)


def dispatch_check(application_id: int, marked_at=None) -> None:
    """Queue the check when the current transaction commits. `marked_at`: the caller already
    wrote that time into `registry_dispatched_at` (submission does, in its INSERT), which
    saves the rush one UPDATE per application."""
    transaction.on_commit(lambda: send_checks([application_id], marked_at=marked_at))


def send_checks(ids, countdown=None, marked_at=None) -> int:
    """Publish one check task per id; returns how many were sent. A broker that is down is
    logged, not raised, and the unsent ones are left for the sweeper."""
    from subsidy.tasks import check_registry

    ids = list(ids)
    if not ids:
        return 0
    now = marked_at
    if now is None:
        now = timezone.now()
        Application.objects.filter(pk__in=ids, status=ApplicationStatus.PENDING_CHSI).update(
            registry_dispatched_at=now
        )
    i = 0
    try:
        if check_registry.app.conf.task_always_eager:  # embedded: run inline, no broker
            for i, pk in enumerate(ids):  # noqa: B007 (i: where a failure stopped)
                check_registry.apply_async(args=[pk], countdown=countdown)
        else:
            # one broker connection for the whole batch (the sweeper may send thousands)
            with check_registry.app.producer_or_acquire() as producer:
                for i, pk in enumerate(ids):  # noqa: B007 (i: where a failure stopped)
                    check_registry.apply_async(args=[pk], countdown=countdown, producer=producer)
    except Exception:
        unsent = ids[i:]
        Application.objects.filter(pk__in=unsent, registry_dispatched_at=now).update(
            registry_dispatched_at=None
        )
        logger.warning(
            "could not queue registry checks for %d application(s); the sweeper will retry",
            len(unsent),
            exc_info=True,
        )
        return i
    return len(ids)


def mark_retry_due(application_id: int, countdown: float) -> None:
    """A retry was scheduled: its message falls due after `countdown` seconds."""
    Application.objects.filter(pk=application_id).update(
        registry_dispatched_at=timezone.now() + timedelta(seconds=countdown)
    )


def stranded(now=None, stale_after=None, grace=None):
    """pending_chsi applications without a live task."""
    now = now or timezone.now()
    stale_after = conf.get("REGISTRY_SWEEP_AFTER_SECONDS") if stale_after is None else stale_after
    grace = conf.get("REGISTRY_SWEEP_GRACE_SECONDS") if grace is None else grace
    return Application.objects.in_status(ApplicationStatus.PENDING_CHSI).filter(
        Q(registry_dispatched_at__lt=now - timedelta(seconds=stale_after))
        | Q(
            registry_dispatched_at__isnull=True,
            submitted_at__lt=now - timedelta(seconds=grace),
        )
    )


def sweep(now=None, stale_after=None, grace=None, limit=None) -> int:
    """Re-dispatch stranded checks, oldest first; returns how many were sent."""
    limit = conf.get("REGISTRY_SWEEP_BATCH") if limit is None else limit
    ids = list(
        stranded(now, stale_after, grace)
        .order_by("submitted_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = send_checks(ids)
    if ids:
        logger.info("registry sweeper re-dispatched %d of %d stranded check(s)", sent, len(ids))
    return sent
