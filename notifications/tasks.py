"""Celery tasks: thin wrappers that take primary keys, call a service, are safe to run twice.

Beat runs `sweep_outbox` every minute and `send_staff_digest` daily (names fixed in
settings.CELERY_BEAT_SCHEDULE; staff edit the schedule in the admin, django-celery-beat).
"""

from celery import shared_task

from notifications.services import delivery, digest


@shared_task(name="notifications.tasks.deliver", acks_late=True)
def deliver(notification_id):
    return delivery.deliver(notification_id)


@shared_task(name="notifications.tasks.deliver_many", acks_late=True)
def deliver_many(notification_ids):
    return [delivery.deliver(pk) for pk in notification_ids]


@shared_task(name="notifications.tasks.sweep_outbox")
def sweep_outbox():
    """Re-dispatch stranded rows: due retries, lost tasks, expired leases."""
    ids = delivery.due_ids()
    for i in range(0, len(ids), 100):
        deliver_many.delay(ids[i : i + 100])
    return len(ids)


@shared_task(name="notifications.tasks.send_staff_digest")
def send_staff_digest():
    return len(digest.send_staff_digest())


@shared_task(name="notifications.tasks.refresh_stats")
def refresh_stats(campaign_id, user_id):
    """Recompute one scope's statistics in the background (stale-while-revalidate)."""
    from django.contrib.auth import get_user_model

    from notifications.services import stats
    from subsidy.models import Campaign

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    user = get_user_model().objects.filter(pk=user_id).first()
    if campaign is None or user is None:
        return None
    stats.refresh(campaign, user)
    return campaign_id
