"""Tasks sent only when the surrounding transaction commits (pretix's TransactionAwareTask)."""

from django.db import transaction


def send_on_commit(task, *args, **kwargs):
    """Queue `task` after the current transaction commits; a rolled-back change sends nothing.
    A broker that is down at that moment is logged, not raised: the sweepers pick the work up."""

    def _send():
        import logging

        try:
            task.apply_async(args=args, kwargs=kwargs)
        except Exception:  # broker unavailable: the periodic sweeper re-dispatches
            logging.getLogger(__name__).warning(
                "could not queue %s; the sweeper will retry it", task.name, exc_info=True
            )

    transaction.on_commit(_send)
