from django.apps import AppConfig


class SubsidyConfig(AppConfig):
    name = "subsidy"
    verbose_name = "补助申领"

    def ready(self):
        from subsidy.refcache import connect_signals

        connect_signals()
