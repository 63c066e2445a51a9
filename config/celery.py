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
