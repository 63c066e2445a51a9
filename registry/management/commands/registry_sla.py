"""`manage.py registry_sla [--year 2024]`: the registry check's time to result and breaches."""

from django.core.management.base import BaseCommand, CommandError

from registry.sla import format_seconds, sla_figures
from subsidy.models import Campaign


class Command(BaseCommand):
    help = "Registry check SLA: median and p95 time to result, applications overdue"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="campaign year (default: current)")

    def handle(self, *args, year=None, **options):
        campaign = Campaign.objects.filter(year=year).first() if year else Campaign.current()
        if campaign is None:
            raise CommandError("没有找到补助批次")
        f = sla_figures(campaign)
        out = self.stdout
        out.write(f"批次: {campaign} (学历校核时限 {f.sla_hours} 小时)")
        out.write(f"已出结果: {f.checked}")
        out.write(f"校核用时中位数: {format_seconds(f.median_seconds)}")
        out.write(f"校核用时 P95: {format_seconds(f.p95_seconds)}")
        out.write(f"超时后才出结果: {f.late_results}")
        out.write(f"待学历接口校核: {f.pending}")
        line = f"超过 {f.sla_hours} 小时仍无结果: {f.overdue}"
        out.write(self.style.ERROR(line) if f.breached else self.style.SUCCESS(line))
