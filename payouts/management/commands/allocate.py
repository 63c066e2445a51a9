from django.core.management.base import BaseCommand, CommandError

from payouts.services.allocation import allocate
from subsidy.models import Campaign


class Command(BaseCommand):
    help = "Run quota allocation (R2/R3) for the campaign of YEAR now."

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)

    def handle(self, year, **options):
        campaign = Campaign.objects.filter(year=year).first()
        if campaign is None:
            raise CommandError(f"没有 {year} 年的补助批次")
        r = allocate(campaign)
        self.stdout.write(
            f"{campaign.title}: 拟获补助 {r.funded} 人, 候补 {r.waitlisted} 人, "
            f"本次变动 {r.moved_count} 人"
        )
