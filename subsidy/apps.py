from django.apps import AppConfig


class SubsidyConfig(AppConfig):
    name = "subsidy"
    verbose_name = "补助申领"

    def ready(self):
        # The registry package's proxy model and its admin list of SLA breaches (issue 4).
        from subsidy.refcache import connect_signals
        from subsidy.registry import admin  # noqa: F401

        connect_signals()
