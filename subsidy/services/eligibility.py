"""The entry check (系统校核, SPEC §4 step 2): may this member open the form now?

Every reason that applies is returned, not only the first, so the page can list them all.
Submission re-checks the intake and R6 parts under the campaign lock (services/intake.py);
this check is the friendly early answer, not the guarantee.
"""

import functools
from dataclasses import asdict, dataclass

from django.db import connection
from django.utils import timezone

from payouts.services.ledger import _granted_year_sql, granted_year
from subsidy import codes
from subsidy.models import RETRYABLE_STATUSES, Application, ApplicationStatus, Campaign
from subsidy.services import prepared


@dataclass(frozen=True)
class Reason:
    code: str
    detail: str

    def as_dict(self):
        return asdict(self)


def reason(code: str, **kwargs) -> Reason:
    """A refusal with its registered text (subsidy.codes), fields filled from `kwargs`."""
    return Reason(code, codes.text(code, **kwargs))


def _fmt(dt) -> str:
    return f"{timezone.localtime(dt):%Y-%m-%d %H:%M}"


def intake_reasons(
    campaign: Campaign, now=None, approved: int | None = None, check_quota: bool = True
) -> list[Reason]:
    """R4: the window, the cap (R1), the quota and a manual close. `approved` is the count of
    city approvals when the caller already has it (Campaign.quota_reached() asks otherwise);
    `check_quota=False` leaves the quota to the intake lock, which counts it anyway."""
    now = now or timezone.now()
    if not campaign.window_open(now):
        return [
            reason("window_closed", opens=_fmt(campaign.opens_at), closes=_fmt(campaign.closes_at))
        ]
    if not check_quota:
        quota_reached = False
    elif approved is None:
        quota_reached = campaign.quota_reached()
    else:
        quota_reached = approved >= campaign.quota
    if (
        campaign.intake_closed_manually
        or campaign.applicant_count >= campaign.application_cap
        or quota_reached
    ):
        return [reason("intake_closed")]
    return []


def attempt_statuses(member, campaign: Campaign) -> list:
    """The statuses of the member's attempts in the campaign (R6's input). Written out once:
    every submission asks, and the ORM's compilation of this one-line query cost ~0.8 ms of
    CPU per call in the opening rush (bench_intake)."""
    with connection.cursor() as cur:
        prepared.execute(cur, "attempt_statuses", _attempt_statuses_sql(), [member.pk, campaign.pk])
        return [row[0] for row in cur.fetchall()]


def submission_facts(member, campaign: Campaign) -> tuple[list, int | None]:
    """What a submission's entry check reads, in one round trip on PostgreSQL: the statuses
    of the member's attempts in the campaign (R6) and the year of an earlier grant (R5).
    Token authentication of the submission endpoint has read them with the token
    (`subsidy.api.auth`) when the member came from there: those are used, once."""
    facts = member.__dict__.pop("_submission_facts", None)
    if campaign is None:  # nothing to read: the entry check answers no_campaign
        return [], None
    if facts is not None and facts[0] == campaign.pk:
        return facts[1], facts[2]
    if connection.vendor != "postgresql":
        return attempt_statuses(member, campaign), granted_year(member.id_hmac, campaign)
    params = [member.pk, campaign.pk, member.id_hmac, member.id_hmac, campaign.pk, campaign.pk]
    with connection.cursor() as cur:
        prepared.execute(cur, "submission_facts", _submission_facts_sql(), params)
        statuses, year = cur.fetchone()
    return statuses, year


@functools.cache
def _submission_facts_sql() -> str:
    return (
        f"SELECT ARRAY({_attempt_statuses_sql()}), "
        f"({_granted_year_sql().strip().removesuffix(';')})"
    )


@functools.cache
def _attempt_statuses_sql() -> str:
    table = Application._meta.db_table
    return f"SELECT status FROM {table} WHERE member_id = %s AND campaign_id = %s"


def application_reasons(member, campaign: Campaign) -> list[Reason]:
    """R6: a city rejection ends the member's campaign; one active application at a time."""
    return reasons_from_statuses(attempt_statuses(member, campaign))


def reasons_from_statuses(statuses) -> list[Reason]:
    """R6, from the statuses of the member's attempts in the campaign."""
    statuses = set(statuses)
    out = []
    if ApplicationStatus.CITY_REJECTED in statuses:
        out.append(reason("city_rejected"))
    if statuses - set(RETRYABLE_STATUSES) - {ApplicationStatus.CITY_REJECTED}:
        out.append(reason("active_application"))
    return out


_UNREAD = object()


def check(
    member,
    campaign: Campaign | None,
    now=None,
    check_quota=True,
    statuses=None,
    granted=_UNREAD,
) -> list[Reason]:
    """All reasons why `member` may not apply in `campaign` now; empty means eligible.
    `check_quota=False`: the submission's pre-check, whose quota count the intake lock repeats
    (`intake.CLAIM_PLACE`) — one query less per submission in the opening rush.
    `statuses`, `granted`: the member's attempts in the campaign and the year of an earlier
    grant (or None), when the caller has read them (`submission_facts`)."""
    if campaign is None:
        return [reason("no_campaign")]
    if member is None:
        return [reason("not_member", deadline=_fmt(campaign.membership_deadline))]
    out = []
    if not member.is_active_member(campaign.membership_deadline):
        out.append(reason("not_member", deadline=_fmt(campaign.membership_deadline)))
    if not member.union.is_eligible:
        out.append(reason("union_not_eligible"))
    out.extend(intake_reasons(campaign, now, check_quota=check_quota))
    # R5: the lifetime ledger (imported years included), or a grant in another campaign.
    year = (
        granted_year(member.id_hmac, exclude_campaign=campaign) if granted is _UNREAD else granted
    )
    if year is not None:
        out.append(reason("already_granted", year=year))
    if statuses is None:
        out.extend(application_reasons(member, campaign))
    else:
        out.extend(reasons_from_statuses(statuses))
    return out


@dataclass
class EntryCheck:
    campaign: Campaign | None
    member: object
    reasons: list[Reason]

    @property
    def eligible(self) -> bool:
        return not self.reasons

    def as_dict(self):
        c = self.campaign
        return {
            "eligible": self.eligible,
            "reasons": [r.as_dict() for r in self.reasons],
            "campaign": None
            if c is None
            else {
                "id": c.pk,
                "year": c.year,
                "title": c.title,
                "opens_at": c.opens_at,
                "closes_at": c.closes_at,
                "intake_open": c.intake_open(),
            },
        }


def entry_check(user, campaign: Campaign | None = None) -> EntryCheck:
    campaign = campaign or Campaign.current()
    member = getattr(user, "member", None)
    if member is not None:
        member = type(member).objects.select_related("union").get(pk=member.pk)
    return EntryCheck(campaign, member, check(member, campaign))
