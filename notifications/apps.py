from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "通知与统计"

    def ready(self):
        from notifications import signals  # noqa: F401
