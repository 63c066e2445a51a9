"""Demo data for the payout stage: allocate the current campaign (idempotent).

City approvals made by the earlier seeders are ranked exactly as the Celery task would; the
dashboard at /payouts/ then shows quota used, the waitlist and the publish button.
"""


def seed(stdout):
    from payouts.services.allocation import allocate
    from subsidy.models import Campaign

    campaign = Campaign.current()
    if campaign is None:
        stdout.write("payouts: no campaign, nothing to allocate")
        return
    result = allocate(campaign)
    stdout.write(
        f"payouts: {campaign.title} allocated — funded {result.funded}, "
        f"waitlisted {result.waitlisted}"
    )
