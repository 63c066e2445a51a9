"""The Celery app. Without a broker configured, tasks run inline (CELERY_TASK_ALWAYS_EAGER)."""

import logging
import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger
from celery.utils.log import get_multiprocessing_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("subsidy")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def mask_pii_in_worker_logs(logger, **kwargs):
    """A worker replaces the root logger's handlers with its own (worker_hijack_root_logger)
    and gives the task logger its own, so the filter from settings.LOGGING is gone: put it
    back on every handler Celery has just set up."""
    from unions.pii import MaskPIILogFilter  # imported late: this module loads with settings

    loggers = [logger]
    if logger is logging.getLogger():
        # set up alongside the root logger, without a signal of its own, and not propagating
        loggers.append(get_multiprocessing_logger())
    for each in filter(None, loggers):
        for handler in each.handlers:
            if not any(isinstance(f, MaskPIILogFilter) for f in handler.filters):
                handler.addFilter(MaskPIILogFilter())


def task(name: str):
    """The task registered under `name` (Celery finds every app's tasks module on first use).

    Services send tasks by name — `enqueue("payouts.tasks.allocate_campaign", 7)` — instead of
    importing the tasks module, which imports the services: the two never import each other
    (scripts/check_import_cycles.py; tests/test_import_cycles.py checks every name)."""
    try:
        return app.tasks[name]
    except KeyError:
        # A web process imports no tasks module by itself: load every installed app's now
        # (what a worker does at start: autodiscover_tasks), once.
        app.loader.import_default_modules()
        return app.tasks[name]


def enqueue(name: str, *args, **options):
    """Send task `name` with positional `args` now; `options` are apply_async's (countdown,
    producer …). Raises what the broker raises: the caller decides what a failure means."""
    return task(name).apply_async(args=args, **options)


def enqueue_on_commit(name: str, *args, **options) -> None:
    """Send task `name` once the current transaction commits (pretix's TransactionAwareTask);
    a rolled-back change sends nothing. A broker down at that moment is logged, not raised: the
    periodic sweepers pick the work up."""
    from django.db import transaction

    def _send():
        try:
            enqueue(name, *args, **options)
        except Exception:  # broker unavailable: the periodic sweeper re-dispatches
            logging.getLogger(__name__).warning(
                "could not queue %s; the sweeper will retry it", name, exc_info=True
            )

    transaction.on_commit(_send)
