"""Whether the quota is really full, and the words an applicant reads about waiting.

An applicant is told 名额已满 (the label 候补（名额已满）of SPEC §6) only when the places held —
funded + paid + payment_failed — have reached the quota (R2). Every other reason to wait has
its own label and text: a waitlisted row while places are still free (allocation has not run
yet) reads 候补（等待递补）; a city-approved row waiting for the list to be determined reads
市总工会审核通过 with what happens next. The progress page, the API and the notifications all
ask here.
"""

from subsidy.models import Application, ApplicationStatus

S = ApplicationStatus
HELD_STATUSES = (S.FUNDED, S.PAID, S.PAYMENT_FAILED)
WAITLIST_OPEN_LABEL = "候补（等待递补）"
# A waitlisted event in the timeline: true whenever it happened.
WAITLIST_EVENT_LABEL = "列入候补名单"


def places_held(campaign_id: int) -> int:
    return Application.objects.in_status(*HELD_STATUSES).filter(campaign_id=campaign_id).count()


def quota_full(campaign) -> bool:
    return places_held(campaign.pk) >= campaign.quota


def status_label(status: str, full: bool | None = None) -> str:
    """The applicant-facing label of a status; `full` matters for `waitlisted` only."""
    if status == S.WAITLISTED and full is False:
        return WAITLIST_OPEN_LABEL
    try:
        return S(status).label
    except ValueError:
        return status


def label_for(app: Application) -> str:
    """The label of one application's current status (one count query when waitlisted)."""
    full = quota_full(app.campaign) if app.status == S.WAITLISTED else None
    return status_label(app.status, full)
