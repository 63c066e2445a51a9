from django.core.management.base import BaseCommand, CommandError
from django.utils.timezone import localtime

from payouts.services.errors import PayoutError
from payouts.services.publication import publish, readiness
from subsidy.models import Campaign


class Command(BaseCommand):
    help = (
        "Determine and publish the grantee list of the campaign of YEAR (R8: refused while "
        "intake is open or applications are pending, until the city's review deadline)."
    )

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)
        parser.add_argument(
            "--check", action="store_true", help="only say whether the list can be published"
        )

    def handle(self, year, check=False, **options):
        campaign = Campaign.objects.filter(year=year).first()
        if campaign is None:
            raise CommandError(f"没有 {year} 年的补助批次")
        if check:
            ready = readiness(campaign)
            self.stdout.write(ready.message())
            if ready.blocked:
                raise CommandError("review_in_progress")
            return
        try:
            campaign = publish(campaign.pk)
        except PayoutError as exc:
            raise CommandError(f"{exc.code}: {exc.message}")
        self.stdout.write(
            f"{campaign.title}: 名单已公示，公示期至 {localtime(campaign.publication_ends_at):%Y-%m-%d %H:%M}"
        )
