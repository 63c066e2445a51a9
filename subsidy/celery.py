"""The Celery app. Without a broker configured, tasks run inline (CELERY_TASK_ALWAYS_EAGER)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "subsidy.settings")

app = Celery("subsidy")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
