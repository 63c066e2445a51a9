from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "payouts"
    verbose_name = "补助发放"

    def ready(self):
        from payouts import signals  # noqa: F401
