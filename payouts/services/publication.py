"""Publication (公示, SPEC §8, notice 五(九)) and the public grantee list.

Publishing freezes `funded` (R7). The public list — masked name, union, district, type — is the
most-read page of a campaign, so its rows are cached per campaign and the cache is dropped
when the list can change (publication, revocation), after the change commits.
"""

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from payouts.services import allocation
from payouts.services.errors import PayoutError
from payouts.services.locking import lock_campaign
from subsidy.models import RANK_ORDER, Application, ApplicationStatus, Campaign
from unions.pii import mask_name

S = ApplicationStatus
# The public list shows the grantees of the published list; a paid or failed payment is
# still a grantee. Revoked rows leave the list.
LISTED_STATUSES = (S.FUNDED, S.PAID, S.PAYMENT_FAILED)
CACHE_SECONDS = 600


def publish(campaign_id: int, by=None) -> Campaign:
    """Allocate one last time and publish the funded list (R7 freeze starts now)."""
    with transaction.atomic():
        lock_campaign(campaign_id)
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.is_published:
            raise PayoutError("already_published", "本批次名单已公示，不能重复公示", 409)
        moved = allocation._run_ranking(campaign)
        allocation._audit_moved(moved, by, "公示前名额分配")
        if not campaign.applications.in_status(S.FUNDED).exists():
            raise PayoutError("nothing_to_publish", "还没有拟获补助的申领，不能公示", 409)
        campaign.published_at = timezone.now()
        campaign.save(update_fields=["published_at"])
        transaction.on_commit(lambda: invalidate_public_list(campaign_id))
    return campaign


def _cache_key(campaign_id: int) -> str:
    return f"payouts:public-list:{campaign_id}"


def invalidate_public_list(campaign_id: int) -> None:
    try:
        cache.delete_many([_cache_key(campaign_id), _cache_key(campaign_id) + ":html"])
    except Exception:  # the list is rebuilt on the next read anyway
        pass


def public_state(campaign: Campaign, now=None) -> str:
    """'not_published', 'open' or 'ended'."""
    if not campaign.is_published:
        return "not_published"
    return "open" if campaign.publication_open(now) else "ended"


def build_grantee_rows(campaign_id: int) -> list[dict]:
    """The public rows, uncached: in R3's order, nothing but masked data."""
    qs = (
        Application.objects.in_status(*LISTED_STATUSES)
        .filter(campaign_id=campaign_id)
        .order_by(*RANK_ORDER)
        .values_list("name", "union__name", "union__district__name", "kind")
    )
    from subsidy.models import ApplicationType

    labels = dict(ApplicationType.choices)
    return [
        {
            "no": i,
            "name": mask_name(name),
            "union": union,
            "district": district or "",
            "type": labels.get(kind, kind),
        }
        for i, (name, union, district, kind) in enumerate(qs, 1)
    ]


def grantee_rows(campaign_id: int) -> list[dict]:
    """The cached public rows of a published campaign."""
    key = _cache_key(campaign_id)
    try:
        rows = cache.get(key)
    except Exception:
        rows = None
    if rows is None:
        rows = build_grantee_rows(campaign_id)
        try:
            cache.set(key, rows, CACHE_SECONDS)
        except Exception:
            pass
    return rows


def cached_list_html(campaign_id: int, render_rows) -> str:
    """The rendered public table, cached with the rows (same invalidation)."""
    key = _cache_key(campaign_id) + ":html"
    try:
        html = cache.get(key)
    except Exception:
        html = None
    if html is None:
        html = render_rows(grantee_rows(campaign_id))
        try:
            cache.set(key, html, CACHE_SECONDS)
        except Exception:
            pass
    return html
