"""The public grantee list (公示, SPEC §8): the main list and the supplementary list (补充公示),
masked, cached per campaign.

The public list — masked name, union, district, type — is the most-read page of a campaign,
so its rows are cached per campaign and the cache is dropped when the list can change
(publication, revocation, promotion), after the change commits. Exports of the list (XLSX,
printable page) read the same rows.
"""

from django.core.cache import cache
from django.utils import timezone

from payouts.models import SupplementaryListing
from subsidy.models import RANK_ORDER, Application, ApplicationStatus, ApplicationType, Campaign
from unions.pii import mask_name

S = ApplicationStatus
# The public list shows the grantees of the published list; a paid or failed payment is
# still a grantee. Revoked rows leave the list.
LISTED_STATUSES = (S.FUNDED, S.PAID, S.PAYMENT_FAILED)
CACHE_SECONDS = 600


def _cache_key(campaign_id: int) -> str:
    return f"payouts:public-list:{campaign_id}"


def invalidate_public_list(campaign_id: int) -> None:
    try:
        key = _cache_key(campaign_id)
        cache.delete_many([key, key + ":html", key + ":supplementary"])
    except Exception:  # the list is rebuilt on the next read anyway
        pass


def public_state(campaign: Campaign, now=None) -> str:
    """'not_published', 'open' or 'ended'."""
    if not campaign.is_published:
        return "not_published"
    return "open" if campaign.publication_open(now) else "ended"


def _public_row(no, name, union, district, kind) -> dict:
    return {
        "no": no,
        "name": mask_name(name),
        "union": union,
        "district": district or "",
        "type": ApplicationType(kind).label if kind in ApplicationType.values else kind,
    }


def build_grantee_rows(campaign_id: int) -> list[dict]:
    """The main list's public rows, uncached: in R3's order, nothing but masked data. Rows
    funded after publication are on the supplementary list instead."""
    qs = (
        Application.objects.in_status(*LISTED_STATUSES)
        .filter(campaign_id=campaign_id, supplementary_listing__isnull=True)
        .order_by(*RANK_ORDER)
        .values_list("name", "union__name", "union__district__name", "kind")
    )
    return [_public_row(i, *row) for i, row in enumerate(qs, 1)]


def build_supplementary_rows(campaign_id: int) -> list[dict]:
    """Every supplementary row still a grantee, uncached, in the order they were listed, each
    with its own period (`listed_at`, `ends_at`)."""
    qs = (
        SupplementaryListing.objects.filter(campaign_id=campaign_id)
        .filter(application__status__in=LISTED_STATUSES)
        .order_by("listed_at", "pk")
        .values_list(
            "application__name",
            "application__union__name",
            "application__union__district__name",
            "application__kind",
            "listed_at",
            "ends_at",
        )
    )
    rows = []
    for i, (name, union, district, kind, listed_at, ends_at) in enumerate(qs, 1):
        row = _public_row(i, name, union, district, kind)
        row.update(listed_at=listed_at, ends_at=ends_at)
        rows.append(row)
    return rows


def supplementary_rows(campaign_id: int, now=None, only_open: bool = True) -> list[dict]:
    """The supplementary list as the public reads it: rows inside their own period (cached
    with the main list; the period is checked at each read), numbered again from 1."""
    key = _cache_key(campaign_id) + ":supplementary"
    try:
        rows = cache.get(key)
    except Exception:
        rows = None
    if rows is None:
        rows = build_supplementary_rows(campaign_id)
        try:
            cache.set(key, rows, CACHE_SECONDS)
        except Exception:
            pass
    if not only_open:
        return rows
    now = now or timezone.now()
    shown = [r for r in rows if r["listed_at"] <= now < r["ends_at"]]
    return [{**r, "no": i} for i, r in enumerate(shown, 1)]


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
