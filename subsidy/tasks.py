"""Celery tasks of the subsidy app: thin wrappers that call a service; safe to run twice."""

from celery import shared_task


@shared_task(name="subsidy.tasks.sweep_received_photos", ignore_result=True)
def sweep_received_photos():
    """Periodic (beat): delete the segment files of received photos that no application
    names any more (`subsidy.services.received`)."""
    from subsidy.services import received

    return received.sweep()
