"""Create the periodic tasks of settings.CELERY_BEAT_SCHEDULE as django-celery-beat rows, so
staff see and can change them in the admin before beat first starts. Same names as the
DatabaseScheduler's sync uses, so its later sync updates these rows instead of duplicating."""

import json

from django.conf import settings
from django.db import migrations


def create(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        schedule = entry["schedule"]
        defaults = {"task": entry["task"], "enabled": True, "args": "[]", "kwargs": json.dumps({})}
        if isinstance(schedule, int | float):
            every, _ = IntervalSchedule.objects.get_or_create(every=int(schedule), period="seconds")
            defaults.update(interval=every, crontab=None)
        else:
            cron, _ = CrontabSchedule.objects.get_or_create(
                minute=schedule._orig_minute,
                hour=schedule._orig_hour,
                day_of_week=schedule._orig_day_of_week,
                day_of_month=schedule._orig_day_of_month,
                month_of_year=schedule._orig_month_of_year,
                timezone=settings.CELERY_TIMEZONE,
            )
            defaults.update(crontab=cron, interval=None)
        PeriodicTask.objects.get_or_create(name=name, defaults=defaults)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
