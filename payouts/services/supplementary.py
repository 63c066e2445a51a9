"""Who goes on the supplementary public list (补充公示, R7, SPEC §8): an application funded after
the main list was published — the promotion that fills a place a revocation freed, or a late
city approval given a free place. Each row is published for the campaign's publication length
from the moment it is listed, and is paid only after that (`payment.payable_applications`)."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from payouts.models import SupplementaryListing
from payouts.services.public_list import invalidate_public_list
from subsidy.models import Campaign


def list_supplementary(campaign: Campaign, entries, now=None) -> list[SupplementaryListing]:
    """Put applications funded after publication on the supplementary list, each for the
    campaign's publication length from now. `entries`: [(application id, id of the revoked
    application it replaces or None, reason)]. Caller holds the campaign lock, inside its
    transaction."""
    now = now or timezone.now()
    ends = now + timedelta(days=campaign.publication_days)
    rows = SupplementaryListing.objects.bulk_create(
        [
            SupplementaryListing(
                campaign=campaign,
                application_id=app_id,
                replaces_id=replaces_id,
                reason=reason[:200],
                listed_at=now,
                ends_at=ends,
            )
            for app_id, replaces_id, reason in entries
        ]
    )
    if rows:
        transaction.on_commit(lambda: invalidate_public_list(campaign.pk))
    return rows
