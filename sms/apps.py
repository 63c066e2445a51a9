from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SmsConfig(AppConfig):
    name = "sms"
    verbose_name = "短信"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from sms.models import sync_catalogue

        # Every catalogue entry has its row (with the default text) once the tables exist.
        post_migrate.connect(sync_catalogue, sender=self, dispatch_uid="sms.sync_catalogue")
