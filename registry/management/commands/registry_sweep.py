"""`manage.py registry_sweep`: send stranded registry checks again now (what the periodic
sweeper does; useful in embedded mode, where no beat runs) and report SLA breaches."""

from django.core.management.base import BaseCommand

from registry import pipeline, sla


class Command(BaseCommand):
    help = "Re-dispatch registry checks stuck in pending_chsi without a live task"

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            action="store_true",
            help="every pending_chsi application, however recently dispatched",
        )

    def handle(self, *args, all=False, **options):
        stale = 0 if all else None
        sent = pipeline.sweep(stale_after=stale, grace=stale)
        self.stdout.write(f"已重新派发 {sent} 条学历校核任务")
        overdue = sla.alert_breaches()
        if overdue:
            self.stdout.write(self.style.ERROR(f"{overdue} 条申领超过学历校核时限仍无结果"))
