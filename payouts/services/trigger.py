"""Queueing allocation after city approvals, coalesced (SPEC §7).

A burst of N approvals queues the allocation task once (or twice, when an approval lands while
a run is under way), not N times: the first approval after a run sets a "pending" flag with
`cache.add` and queues the task after its transaction commits; later approvals see the flag and
queue nothing; the task clears the flag before it ranks, so nothing approved is ever missed.
The flag expires by itself, so a lost task cannot block allocation for long; publication and
the on-demand endpoints run allocation directly anyway.
"""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from config.celery import enqueue

log = logging.getLogger(__name__)


def pending_key(campaign_id: int) -> str:
    return f"payouts:allocation-pending:{campaign_id}"


def request_allocation(campaign_id: int) -> None:
    """Call inside the approving transaction: queues one allocation run after commit."""

    def _queue():
        try:
            first = cache.add(pending_key(campaign_id), 1, timeout=300)
        except Exception:
            log.warning("cache unavailable; queueing allocation without coalescing")
            first = True
        if not first:
            return
        try:
            enqueue(
                "payouts.tasks.allocate_campaign",
                campaign_id,
                countdown=getattr(settings, "PAYOUTS_ALLOCATION_COALESCE_SECONDS", 2),
            )
        except Exception:
            log.warning("could not queue allocation for campaign %s", campaign_id, exc_info=True)
            try:
                cache.delete(pending_key(campaign_id))
            except Exception:
                pass

    transaction.on_commit(_queue)
