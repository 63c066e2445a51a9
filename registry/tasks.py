"""Celery tasks of the registry check: thin wrappers that take primary keys and call a service.
They are safe to run twice (the services are idempotent) and are sent after commit.

Their wire names ("subsidy.tasks.…") are the ones they had before the registry became an app of
its own: messages already queued by the previous release, and beat's rows in the database,
name them so."""

import logging
import random

from celery import shared_task

from registry import conf

logger = logging.getLogger(__name__)


def backoff(retries: int) -> float:
    """Exponential backoff with jitter: base·2^n capped, scaled by U(0.5, 1) so a registry
    that comes back is not hit by every waiting check in the same second."""
    base = float(conf.get("REGISTRY_RETRY_BASE_SECONDS"))
    cap = float(conf.get("REGISTRY_RETRY_MAX_SECONDS"))
    return min(cap, base * (2**retries)) * random.uniform(0.5, 1.0)


@shared_task(
    bind=True,
    name="subsidy.tasks.check_registry",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=None,  # bounded below by REGISTRY_MAX_RETRIES; the sweeper takes over after
)
def check_registry(self, application_id: int):
    from registry import pipeline, verification

    if self.request.is_eager:
        # Inline (embedded mode): a few immediate re-tries at most; the request must not hang
        # on a dead registry — the sweeper (or `manage.py registry_sweep`) sends it again.
        result = verification.check(application_id)
        for _ in range(int(conf.get("REGISTRY_EAGER_RETRIES"))):
            if not result.retry:
                break
            result = verification.check(application_id)
        return result.code
    result = verification.check(application_id, offload_db=True)
    if not result.retry:
        return result.code
    if self.request.retries >= int(conf.get("REGISTRY_MAX_RETRIES")):
        logger.warning(
            "registry check of application %s gave up after %d retries; the sweeper will "
            "send it again",
            application_id,
            self.request.retries,
        )
        return result.code
    countdown = result.retry_after or backoff(self.request.retries)
    pipeline.mark_retry_due(application_id, countdown)
    raise self.retry(countdown=countdown)


@shared_task(name="subsidy.tasks.drain_registry_queue", ignore_result=True)
def drain_registry_queue():
    """Sent (routed to its own queue) by the first submission of a burst: publishes a check
    for every application the burst pushed onto the pending list (pipeline module docstring).
    Safe to run twice or concurrently: each id is popped by one drain."""
    from registry import pipeline

    return pipeline.drain()


@shared_task(name="subsidy.tasks.sweep_pending_registry_checks", ignore_result=True)
def sweep_pending_registry_checks():
    """Periodic (beat): re-dispatch stranded checks and raise the SLA alert."""
    from registry import pipeline, sla

    if not sweep_pending_registry_checks.app.conf.task_always_eager:
        # ids whose drain could not be published wait no longer than this
        try:
            pipeline.drain()
        except Exception:  # Redis down: the sweep below is what recovers from that
            logger.warning("could not drain the registry dispatch list", exc_info=True)
    sent = pipeline.sweep()
    sla.alert_breaches()
    return sent
