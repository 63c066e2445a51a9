"""Figures for the city staff's payout page: quota, waitlist, whether the list can be
determined and published (R8, with the counts that block it), publication, the supplementary
list and payment."""

from django.utils import timezone

from payouts.models import SupplementaryListing
from payouts.services.payment import payable_applications, payment_open, supplementary_waiting
from payouts.services.public_list import public_state
from payouts.services.publication import readiness
from payouts.services.reconciliation import batch_summary
from subsidy.models import ApplicationStatus

S = ApplicationStatus


def campaign_overview(campaign, now=None) -> dict:
    now = now or timezone.now()
    counts = campaign.applications.all().status_counts()
    funded = counts.get(S.FUNDED, 0)
    paid = counts.get(S.PAID, 0)
    failed = counts.get(S.PAYMENT_FAILED, 0)
    used = funded + paid + failed
    approved_total = sum(
        counts.get(s, 0) for s in (S.APPROVED, S.FUNDED, S.WAITLISTED, S.PAID, S.PAYMENT_FAILED)
    )
    ready = readiness(campaign, now)
    return {
        "campaign": campaign,
        "quota": campaign.quota,
        "used": used,
        "remaining": max(campaign.quota - used, 0),
        "used_pct": min(100, round(100 * used / campaign.quota)) if campaign.quota else 0,
        "unallocated": counts.get(S.APPROVED, 0),
        "waitlisted": counts.get(S.WAITLISTED, 0),
        "revoked": counts.get(S.REVOKED, 0),
        "pending_city": counts.get(S.PENDING_CITY, 0),
        "approved_total": approved_total,
        "funded": funded,
        "paid": paid,
        "payment_failed": failed,
        "quota_reached": campaign.quota_reached(),
        "readiness": ready,
        "blocking": [(S(st).label, n) for st, n in ready.pending.items()],
        "public_state": public_state(campaign, now),
        "payment_open": payment_open(campaign, now),
        "payable": payable_applications(campaign, now).count() if campaign.is_published else 0,
        "supplementary_waiting": supplementary_waiting(campaign, now),
        "supplementary": list(
            SupplementaryListing.objects.filter(campaign=campaign)
            .select_related("application", "application__union", "replaces")
            .order_by("-listed_at", "-pk")[:50]
        ),
        "batches": [batch_summary(b) for b in campaign.batches.all()],
    }
