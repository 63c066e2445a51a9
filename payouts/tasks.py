"""Celery tasks of the payout stage: thin wrappers that take primary keys and call a service."""

from celery import shared_task
from django.core.cache import cache

from payouts.services import allocation
from payouts.services.trigger import pending_key


@shared_task(name="payouts.tasks.allocate_campaign", acks_late=True)
def allocate_campaign(campaign_id: int):
    """Run allocation for one campaign. The "pending" flag is cleared *before* the run, so an
    approval committed while this runs queues exactly one more run (coalescing, see trigger)."""
    try:
        cache.delete(pending_key(campaign_id))
    except Exception:  # a cache outage must not stop the allocation itself
        pass
    result = allocation.allocate(campaign_id)
    return {"funded": result.funded, "waitlisted": result.waitlisted, "moved": result.moved_count}
