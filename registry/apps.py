from django.apps import AppConfig


class RegistryConfig(AppConfig):
    """The check of every application against the national education registry (学信网):
    client, rate limit, hand-off and dispatch pipeline, rules, SLA, tasks and commands."""

    name = "registry"
    verbose_name = "学历校核"
