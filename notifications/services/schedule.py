"""The periodic jobs as django-celery-beat rows, so staff see and change them in the admin
(the DatabaseScheduler also syncs settings.CELERY_BEAT_SCHEDULE when beat starts; the rows
use the same names, so nothing is duplicated)."""

import json

from django.conf import settings
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask


def ensure_periodic_tasks() -> list[str]:
    created = []
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        schedule = entry["schedule"]
        defaults = {"task": entry["task"], "args": "[]", "kwargs": json.dumps({})}
        if isinstance(schedule, int | float):
            every, _ = IntervalSchedule.objects.get_or_create(
                every=int(schedule), period=IntervalSchedule.SECONDS
            )
            defaults.update(interval=every)
        else:
            cron, _ = CrontabSchedule.objects.get_or_create(
                minute=schedule._orig_minute,
                hour=schedule._orig_hour,
                day_of_week=schedule._orig_day_of_week,
                day_of_month=schedule._orig_day_of_month,
                month_of_year=schedule._orig_month_of_year,
                timezone=settings.CELERY_TIMEZONE,
            )
            defaults.update(crontab=cron)
        _, was_created = PeriodicTask.objects.get_or_create(name=name, defaults=defaults)
        if was_created:
            created.append(name)
    return created
