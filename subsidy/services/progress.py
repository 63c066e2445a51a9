"""What an applicant sees about their own applications (SPEC §4 step 5–6).

Every attempt with its timeline (submission, then every audited transition: status label,
time, reason, which level), the registry's failure reason, the queue position, and the help
that goes on every applicant page: the district hotline and the FAQ.

Queue position: 1 + the number of applications of the campaign with a lower queue number that
are still in the running (not rejected, failed or revoked) — where this attempt stands among
the applications ahead of it, not its raw queue number (which is also shown).
"""

from django.db.models import Prefetch

from reviews.models import AuditRecord
from subsidy.models import (
    FAQ,
    RETRYABLE_STATUSES,
    Application,
    ApplicationStatus,
    ApplicationType,
    Campaign,
)
from subsidy.services import places
from unions.models import ReviewerLevel

S = ApplicationStatus
OUT_OF_RUNNING = (*RETRYABLE_STATUSES, S.CITY_REJECTED, S.REVOKED)
REJECTIONS = {S.CHSI_FAILED, S.GRASSROOTS_REJECTED, S.DISTRICT_REJECTED, S.CITY_REJECTED}
# Who acted, as the applicant reads it: the registry check and allocation run as "system".
LEVEL_LABELS = {**dict(ReviewerLevel.choices), "": "系统", "system": "系统"}


def status_label(code: str) -> str:
    """A status as a timeline event: true whenever it happened (so a waitlisted event says
    "列入候补名单", not whether the quota was full — the current status says that)."""
    if code == S.WAITLISTED:
        return places.WAITLIST_EVENT_LABEL
    return places.status_label(code)


def queue_position(app: Application) -> int | None:
    if app.status in OUT_OF_RUNNING:
        return None
    ahead = (
        Application.objects.filter(campaign_id=app.campaign_id, queue_number__lt=app.queue_number)
        .exclude(stage__in=OUT_OF_RUNNING)  # none of them an allocation status: stage = status
        .count()
    )
    return ahead + 1


def timeline(app: Application) -> list[dict]:
    events = [
        {
            "status": S.PENDING_CHSI.value,
            "label": "提交申领",
            "at": app.submitted_at,
            "reason": "",
            "level": "",
            "by": "申领人",
        }
    ]
    for rec in app.audit_records.all():
        reason = rec.reason
        if rec.to_status == S.CHSI_FAILED and not reason:
            reason = app.registry_reason
        by = rec.union.name if rec.union_id else LEVEL_LABELS.get(rec.level, rec.level or "系统")
        events.append(
            {
                "status": rec.to_status,
                "label": status_label(rec.to_status),
                "at": rec.created_at,
                "reason": reason,
                "level": rec.level,
                "by": by,
                "rejected": rec.to_status in REJECTIONS,
            }
        )
    return events


def hotline_for(union, campaign: Campaign | None) -> str:
    """The applicant's district hotline, else the campaign's general one; several numbers
    (stored "85571310;85524304") are written as the notice writes them: 85571310、85524304."""
    district = getattr(union, "district", None) if union is not None else None
    if district is not None and district.hotline:
        return f"{district.name}：{_numbers(district.hotline)}"
    if campaign is not None and campaign.general_hotline:
        if campaign.general_hotline_name:
            return f"{campaign.general_hotline_name}：{_numbers(campaign.general_hotline)}"
        return _numbers(campaign.general_hotline)
    return ""


def _numbers(stored: str) -> str:
    return "、".join(n.strip() for n in stored.replace("；", ";").split(";") if n.strip())


def help_context(user=None, campaign: Campaign | None = None) -> dict:
    """`hotline` and `faqs` for `_help_footer.html` on every applicant page."""
    campaign = campaign or Campaign.current()
    member = getattr(user, "member", None) if user is not None and user.is_authenticated else None
    union = member.union if member is not None else None
    return {
        "hotline": hotline_for(union, campaign),
        "faqs": list(FAQ.objects.filter(published=True)),
    }


def applications_of(member, campaign: Campaign | None = None):
    qs = Application.objects.filter(member=member).select_related(
        "campaign", "union", "union__district"
    )
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    return qs.prefetch_related(
        Prefetch(
            "audit_records", queryset=AuditRecord.objects.select_related("union").order_by("seq")
        )
    ).order_by("-campaign__year", "-attempt")


def describe(app: Application) -> dict:
    """One attempt as the applicant sees it (the API's and the page's shape)."""
    return {
        "id": app.pk,
        "campaign": {"id": app.campaign_id, "year": app.campaign.year, "title": app.campaign.title},
        "attempt": app.attempt,
        "status": app.status,
        "status_label": places.label_for(app),
        "kind": app.kind,
        "kind_label": ApplicationType(app.kind).label,
        "number_label": app.number_label,
        "study_number": app.study_number,
        "bank_account": app.masked_account,
        "bank_branch": app.bank_branch,
        "union": app.union.name,
        "submitted_at": app.submitted_at,
        "queue_number": app.queue_number,
        "queue_position": queue_position(app),
        "registry_reason": app.registry_reason,
        "rejection_reason": app.rejection_reason,
        "bin_unknown": app.bin_unknown,
        "can_resubmit": app.is_retryable and app.campaign.intake_open(),
        "hotline": hotline_for(app.union, app.campaign),
        "timeline": timeline(app),
    }


def progress_of(member, campaign: Campaign | None = None) -> list[dict]:
    if member is None:
        return []
    return [describe(a) for a in applications_of(member, campaign)]
