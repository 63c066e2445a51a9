"""Determining and publishing the list (确定补助名单, 公示: SPEC §7 R7–R8, §8; notice 五(八)–(九)).

R8: the list is determined after review. Publication is refused (`review_in_progress`, with
the counts that block it) while intake is open or any application of the campaign is pending
at the registry or at a review level — unless the city's review deadline has passed: then the
rows still pending (the 逾期未审 of `reviews.services.overdue`) stay out of the list and do
not block it.

Publishing freezes `funded` (R7). A place funded afterwards (a promotion after a revocation, a
late approval given a free place) goes on the supplementary list with its own period
(`SupplementaryListing`), shown under the main list, and is paid only after that period.

The public rows themselves are built and cached in `public_list`; who goes on the
supplementary list is `supplementary`.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from payouts.services import allocation
from payouts.services.errors import PayoutError
from payouts.services.locking import lock_campaign
from payouts.services.public_list import invalidate_public_list
from subsidy.models import Application, ApplicationStatus, Campaign

S = ApplicationStatus
# What blocks publication before the city's deadline (R8), in the order the message names it.
BLOCKING_STATUSES = (S.PENDING_CHSI, S.PENDING_GRASSROOTS, S.PENDING_DISTRICT, S.PENDING_CITY)


@dataclass(frozen=True)
class Readiness:
    """Whether the list can be determined and published now (R8), and why not."""

    pending: dict  # {status: count} of BLOCKING_STATUSES
    intake_open: bool
    city_deadline: object  # datetime
    city_deadline_passed: bool
    already_published: bool

    @property
    def pending_total(self) -> int:
        return sum(self.pending.values())

    @property
    def blocked(self) -> bool:
        if self.already_published or self.city_deadline_passed:
            return False
        return self.intake_open or self.pending_total > 0

    @property
    def left_out(self) -> int:
        """Rows still pending that publication after the city's deadline leaves out."""
        return self.pending_total if self.city_deadline_passed else 0

    def as_dict(self) -> dict:
        return {
            "intake_open": self.intake_open,
            "pending": {str(k): v for k, v in self.pending.items()},
            "city_review_until": self.city_deadline,
            "city_deadline_passed": self.city_deadline_passed,
        }

    def message(self) -> str:
        """The Chinese explanation city staff read next to the button and in the refusal."""
        deadline = f"{timezone.localtime(self.city_deadline):%Y-%m-%d %H:%M}"
        if not self.blocked:
            if self.left_out:
                return (
                    f"市总工会审核已于 {deadline} 截止，仍有 {self.left_out} 件申领未完成审核，"
                    "不列入本次名单（见逾期未审）。"
                )
            return "各级审核已结束，可以确定并公示补助名单。"
        parts = []
        if self.intake_open:
            parts.append("申领通道仍开放")
        parts += [f"{S(st).label} {n} 件" for st, n in self.pending.items() if n]
        return (
            "审核尚未结束，暂不能公示：" + "，".join(parts) + "。"
            f"补助名单须在各级审核结束后确定；市总工会审核截止（{deadline}）后可公示，"
            "届时仍未审核的申领不列入名单。"
        )


def readiness(campaign: Campaign, now=None) -> Readiness:
    """R8's facts for one campaign: one grouped count over the pending stages."""
    now = now or timezone.now()
    counts = (
        Application.objects.filter(campaign=campaign).in_status(*BLOCKING_STATUSES).status_counts()
    )
    return Readiness(
        pending={st: counts.get(st, 0) for st in BLOCKING_STATUSES},
        intake_open=campaign.intake_open(now),
        city_deadline=campaign.city_review_until,
        city_deadline_passed=now > campaign.city_review_until,
        already_published=campaign.is_published,
    )


def publish(campaign_id: int, by=None, now=None) -> Campaign:
    """Determine the list (allocate one last time) and publish it (R8; the R7 freeze starts)."""
    with transaction.atomic():
        lock_campaign(campaign_id)
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.is_published:
            raise PayoutError("already_published", "本批次名单已公示，不能重复公示", 409)
        ready = readiness(campaign, now)
        if ready.blocked:
            raise PayoutError("review_in_progress", ready.message(), 409, blocking=ready.as_dict())
        moved = allocation._run_ranking(campaign)
        allocation._audit_moved(moved, by, "确定补助名单（公示前名额分配）")
        if not campaign.applications.in_status(S.FUNDED).exists():
            raise PayoutError("nothing_to_publish", "还没有拟获补助的申领，不能公示", 409)
        campaign.published_at = now or timezone.now()
        campaign.save(update_fields=["published_at"])
        transaction.on_commit(lambda: invalidate_public_list(campaign_id))
    return campaign
