"""Campaigns, applications and their state machine, and the reference data applicants see.

The Application's transitions below are the table of SPEC §6, one `@transition` per edge.
Side effects (audit records, notifications, allocation) hang off django-fsm's
`post_transition` signal in the apps that own them, so this file stays the diagram.
"""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from subsidy.conflicts import own_member_ids
from unions.models import Member, ReviewerLevel, Union, reviewer_level
from unions.pii import EncryptedCharField, mask_account, mask_id_number


class Campaign(models.Model):
    """One year's subsidy (批次): every parameter of SPEC §3 is data."""

    year = models.PositiveSmallIntegerField("年度", unique=True)
    title = models.CharField("名称", max_length=100)
    eligible_from = models.DateField("入学/毕业时间起")
    eligible_until = models.DateField("入学/毕业时间止")
    membership_deadline = models.DateTimeField("实名入会截止时间")
    opens_at = models.DateTimeField("申领开始时间")
    closes_at = models.DateTimeField("申领截止时间")
    grassroots_review_until = models.DateTimeField("基层工会审核截止时间")
    district_review_until = models.DateTimeField("区总工会审核截止时间")
    city_review_until = models.DateTimeField("市总工会审核截止时间")
    quota = models.PositiveIntegerField("补助名额")
    application_cap = models.PositiveIntegerField("申领人数上限")
    amount_cny = models.DecimalField("补助金额（元）", max_digits=8, decimal_places=2)
    publication_days = models.PositiveSmallIntegerField("公示天数", default=5)
    registry_sla_hours = models.PositiveSmallIntegerField("学历校核时限（小时）", default=2)
    general_hotline = models.CharField("咨询电话", max_length=64, blank=True)
    general_hotline_name = models.CharField("咨询电话名称", max_length=100, blank=True)
    intake_closed_manually = models.BooleanField("手动关闭申领", default=False)
    # R1: distinct members who submitted; incremented under the campaign row lock.
    applicant_count = models.PositiveIntegerField("已申领人数", default=0, editable=False)
    # Strictly increasing queue numbers, handed out under the same lock.
    last_queue_number = models.PositiveIntegerField("最后排队号", default=0, editable=False)
    published_at = models.DateTimeField("公示开始时间", null=True, blank=True)

    class Meta:
        verbose_name = "补助批次"
        verbose_name_plural = "补助批次"
        ordering = ["-year"]

    def __str__(self):
        return self.title

    # --- questions the rest of the system asks -------------------------------------------
    @classmethod
    def current(cls):
        """The campaign applicants deal with now: the newest one that has opened."""
        now = timezone.now()
        return cls.objects.filter(opens_at__lte=now).order_by("-opens_at").first() or (
            cls.objects.order_by("-year").first()
        )

    def window_open(self, now=None) -> bool:
        now = now or timezone.now()
        return self.opens_at <= now < self.closes_at

    def quota_reached(self) -> bool:
        return (
            self.applications.filter(city_approved_at__isnull=False)
            .exclude(stage=ApplicationStatus.REVOKED)
            .count()
            >= self.quota
        )

    def intake_open(self, now=None) -> bool:
        """R4: open inside the window until the cap or the quota is reached, or staff close it."""
        return (
            self.window_open(now)
            and not self.intake_closed_manually
            and self.applicant_count < self.application_cap
            and not self.quota_reached()
        )

    def review_deadline(self, level: str) -> datetime:
        return {
            ReviewerLevel.GRASSROOTS: self.grassroots_review_until,
            ReviewerLevel.DISTRICT: self.district_review_until,
            ReviewerLevel.CITY: self.city_review_until,
        }[level]

    def review_open(self, level: str, now=None) -> bool:
        """A level may act from the opening of intake until its own deadline."""
        now = now or timezone.now()
        return self.opens_at <= now <= self.review_deadline(level)

    def review_levels_open(self, now=None) -> list[str]:
        return [lv for lv in ReviewerLevel.values if self.review_open(lv, now)]

    @property
    def publication_ends_at(self):
        if self.published_at is None:
            return None
        return self.published_at + timedelta(days=self.publication_days)

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def publication_open(self, now=None) -> bool:
        now = now or timezone.now()
        return self.is_published and self.published_at <= now < self.publication_ends_at

    def eligibility_window_text(self) -> str:
        return f"{self.eligible_from:%Y-%m-%d} 至 {self.eligible_until:%Y-%m-%d}"

    @staticmethod
    def end_of_day(d):
        return timezone.make_aware(datetime.combine(d, time(23, 59, 59)))


class ApplicationType(models.TextChoices):
    ENROLLMENT = "enrollment", "成人高等教育在职学历提升报读"
    SELF_STUDY = "self_study", "高等教育自学考试毕业"


class WorkerGroup(models.TextChoices):
    NEW_GENERATION = "new_generation", "新生代产业工人"
    NEW_EMPLOYMENT = "new_employment", "新就业形态劳动者"
    MANUFACTURING = "manufacturing", "制造业一线职工"
    MODEL_WORKER = "model_worker", "市以上劳模和五一劳动奖章获得者"
    NONE = "none", "无"


PRIORITY_WORKER_GROUPS = {
    WorkerGroup.NEW_GENERATION,
    WorkerGroup.NEW_EMPLOYMENT,
    WorkerGroup.MANUFACTURING,
    WorkerGroup.MODEL_WORKER,
}


class Hukou(models.TextChoices):
    AGRICULTURAL = "agricultural", "农业户口"
    NON_AGRICULTURAL = "non_agricultural", "非农业户口"


class ApplicationStatus(models.TextChoices):
    PENDING_CHSI = "pending_chsi", "待学历接口校核"
    CHSI_FAILED = "chsi_failed", "学历接口校核不通过"
    PENDING_GRASSROOTS = "pending_grassroots", "待基层工会审核"
    GRASSROOTS_REJECTED = "grassroots_rejected", "基层工会审核不通过"
    PENDING_DISTRICT = "pending_district", "待区总工会，产业、直属单位工会审核"
    DISTRICT_REJECTED = "district_rejected", "区总工会，产业、直属单位工会审核不通过"
    PENDING_CITY = "pending_city", "待市总工会审核"
    CITY_REJECTED = "city_rejected", "市总工会审核不通过"
    APPROVED = "approved", "市总工会审核通过"
    FUNDED = "funded", "拟获补助"
    WAITLISTED = "waitlisted", "候补（名额已满）"
    REVOKED = "revoked", "取消补助资格"
    PAYMENT_FAILED = "payment_failed", "发放失败"
    PAID = "paid", "已发放"


S = ApplicationStatus
# Rejected or failed attempts: the member may submit again while intake is open (R6).
RETRYABLE_STATUSES = (S.CHSI_FAILED, S.GRASSROOTS_REJECTED, S.DISTRICT_REJECTED)
# The registry check's statuses (SPEC §5): grassroots reviewers never see them (notice
# attachment 2); district / industry and city reviewers list, filter and open them, read-only
# (attachment 3) — no level decides on them.
REGISTRY_CHECK_STATUSES = (S.PENDING_CHSI, S.CHSI_FAILED)
# R3: the order in which city-approved applications are funded (allocation, the public list,
# payment files, promotion from the waitlist). A place is a position in this order, not a
# stored number: storing it would rewrite every later row whenever an earlier one is approved.
RANK_ORDER = ("submitted_at", "city_approved_at", "queue_number")
# Which level acts on which pending status.
PENDING_FOR_LEVEL = {
    ReviewerLevel.GRASSROOTS: S.PENDING_GRASSROOTS,
    ReviewerLevel.DISTRICT: S.PENDING_DISTRICT,
    ReviewerLevel.CITY: S.PENDING_CITY,
}
CITY_APPROVED_STATUSES = (S.APPROVED, S.FUNDED, S.WAITLISTED, S.PAID, S.PAYMENT_FAILED)
# Allocation's statuses form one *stage* (`Application.stage`): approved, funded and waitlisted
# are "city-approved, awaiting publication" and differ only in R3's outcome. Every index keys on
# the stage, never on the status, so allocation's status changes touch no index and PostgreSQL
# writes them as heap-only (HOT) updates: the first allocation of 100,000 rows drops from
# 3.8-4.6 s to 1.0-1.4 s on the 2-core machine (bench_allocation).
ALLOCATION_STATUSES = (S.APPROVED, S.FUNDED, S.WAITLISTED)


def statuses_visible_at(level: str | None) -> list[str]:
    """The statuses a reviewer of `level` lists and opens (notice attachments 2 and 3)."""
    if level == ReviewerLevel.GRASSROOTS:
        return [s for s in S.values if s not in REGISTRY_CHECK_STATUSES]
    return list(S.values)


def sql_literals(*statuses: str) -> str:
    """Statuses (or stages) as SQL string literals for a statement the ORM does not write:
    `status IN ({sql_literals(S.APPROVED, S.FUNDED)})`. Built from ApplicationStatus, so a
    renamed or removed status fails here when the statement is built, not in production."""
    return ", ".join(f"'{S(s).value}'" for s in statuses)


def stage_of(status: str) -> str:
    """The stage a status belongs to: the status itself, or `approved` for the allocation's."""
    return S.APPROVED if status in ALLOCATION_STATUSES else status


def can_act_grassroots(instance, user):
    return reviewer_level(user) == ReviewerLevel.GRASSROOTS


def can_act_district(instance, user):
    return reviewer_level(user) == ReviewerLevel.DISTRICT


def can_act_city(instance, user):
    return reviewer_level(user) == ReviewerLevel.CITY


def not_published(instance):
    return not instance.campaign.is_published


class ApplicationQuerySet(models.QuerySet):
    # django-fsm's ConcurrentTransitionMixin reads the state field when each row is loaded: a
    # deferred `status` would cost one extra query per row (4,126 of them in a payment batch).
    # So `status` is always loaded, whatever a caller asks `only` or `defer` to leave out.
    def only(self, *fields):
        if fields and fields != (None,) and "status" not in fields:
            fields = (*fields, "status")
        return super().only(*fields)

    def defer(self, *fields):
        return super().defer(*(f for f in fields if f != "status"))

    def active(self):
        """R6: neither rejected-and-retryable; city_rejected stays, it ends the campaign."""
        return self.exclude(stage__in=RETRYABLE_STATUSES)

    def in_status(self, *statuses):
        """`status IN statuses`, said so the indexes (which key on `stage`) can answer it: the
        stages the statuses belong to, and the statuses themselves only where a stage is not
        wholly asked for (funded alone, say). The same rows as `filter(status__in=…)`."""
        stages = {stage_of(s) for s in statuses}
        qs = self.filter(stage__in=sorted(stages))
        if S.APPROVED in stages and not set(ALLOCATION_STATUSES) <= set(statuses):
            qs = qs.filter(status__in=list(statuses))
        return qs

    def status_counts(self) -> dict:
        """{status: count} over this queryset: per stage from an index, then the allocation
        stage (only city-approved rows) split by status."""
        counts = dict(self.order_by().values_list("stage").annotate(n=models.Count("*")))
        if counts.pop(S.APPROVED, 0):
            split = self.filter(stage=S.APPROVED).order_by().values_list("status")
            counts.update(split.annotate(n=models.Count("*")))
        return counts

    def visible_to(self, user):
        """The one scoping door (SPEC §1, §12): every reviewer page, API, export and photo
        view goes through here. Reviewers with the review permission see: grassroots their
        managed unions, district and industry reviewers their subtrees, city staff everything;
        grassroots never see applications still in or failed at the registry check (notice
        attachment 2), district / industry and city reviewers see them read-only (attachment
        3); no reviewer sees their own application — same member, same ID number or same
        mobile (`subsidy.conflicts`), whether or not their login was ever linked to it. A
        superuser without a reviewer profile (ops) sees everything but applications of members
        linked to that login. Applicants are scoped by `of_user`, not here."""
        if user is None or not user.is_authenticated:
            return self.none()
        reviewer = getattr(user, "reviewer", None)
        if reviewer is not None:
            if not (reviewer.active and reviewer.can_review and user.is_active):
                return self.none()
            qs = self.all()
            if reviewer.level == ReviewerLevel.GRASSROOTS:
                # A positive list of whole stages, not NOT IN: PostgreSQL can then answer the
                # per-stage counts from the (campaign, union, stage) index alone.
                qs = self.in_status(*statuses_visible_at(reviewer.level))
            # Conflict of interest by identity, not by link (SPEC §2): the person's own
            # applications, recognised by member record, ID number or mobile.
            own = own_member_ids(user, self.model.objects)
            if own:
                qs = qs.exclude(member_id__in=sorted(own))
            if reviewer.is_city:
                return qs
            managed = list(reviewer.managed_unions.all())
            if not managed:
                return self.none()
            if reviewer.level == ReviewerLevel.GRASSROOTS:
                return qs.filter(union__in=managed)
            # The subtree's ids first (a small indexed query on the union table), so the
            # application query filters on union_id and can use (campaign, union, status)
            # instead of joining every application to its union for a path LIKE.
            subtree = Union.objects.subtree_of(managed).values_list("pk", flat=True)
            return qs.filter(union_id__in=list(subtree))
        if user.is_superuser and user.is_active:
            own = own_member_ids(user, self.model.objects)
            return self.exclude(member_id__in=sorted(own)) if own else self
        return self.none()

    def of_user(self, user):
        """The applicant's own applications."""
        member = getattr(user, "member", None)
        if member is None:
            return self.none()
        return self.filter(member=member)

    def for_dashboard(self):
        return self.select_related("campaign", "union", "union__district", "member")


class Application(ConcurrentTransitionMixin, models.Model):
    """One attempt by a member in a campaign (a resubmission is a new attempt)."""

    # No single-column index on the campaign: every composite index below starts with it.
    campaign = models.ForeignKey(
        Campaign,
        verbose_name="批次",
        on_delete=models.PROTECT,
        related_name="applications",
        db_index=False,
    )
    # Indexed with the campaign (app_member_campaign), not on its own.
    member = models.ForeignKey(
        Member,
        verbose_name="会员",
        on_delete=models.PROTECT,
        related_name="applications",
        db_index=False,
    )
    attempt = models.PositiveSmallIntegerField("第几次申领", default=1)
    # Snapshots at submission: the member's union and identity as they were then.
    union = models.ForeignKey(
        Union, verbose_name="所属工会", on_delete=models.PROTECT, related_name="applications"
    )
    name = models.CharField("姓名", max_length=50)
    id_number = EncryptedCharField("身份证号码")
    id_hmac = models.CharField("身份证号索引", max_length=64, editable=False)
    mobile = models.CharField("手机号码", max_length=11)

    kind = models.CharField("申领类型", max_length=16, choices=ApplicationType.choices)
    study_number = models.CharField("学籍学号/毕业证书编号", max_length=64)
    worker_group = models.CharField("所属职工群体", max_length=24, choices=WorkerGroup.choices)
    hukou = models.CharField("户口性质", max_length=24, choices=Hukou.choices)
    job_position = models.CharField("工作岗位", max_length=100)
    bank_name = models.CharField("开户行", max_length=32, default="中国工商银行", editable=False)
    bank_account = EncryptedCharField("银行账号")
    bank_account_hmac = models.CharField("银行账号索引", max_length=64, editable=False, default="")
    bank_account_last4 = models.CharField("账号后四位", max_length=4, editable=False, default="")
    bank_branch = models.CharField("开户支行", max_length=100)
    bank_card_photo = models.CharField("银行卡照片（私有存储路径）", max_length=255, blank=True)
    bin_unknown = models.BooleanField("卡号不在工商银行卡BIN表内（申请人已确认）", default=False)
    union_contact_phone = models.CharField("所属工会联系人电话", max_length=32)
    commitment = models.ForeignKey(
        "CommitmentLetter",
        verbose_name="承诺书版本",
        on_delete=models.PROTECT,
        null=True,
        db_index=False,
    )
    notify_opt_in = models.BooleanField("微信通知提醒", default=True)
    idempotency_key = models.CharField("幂等键", max_length=64, blank=True, default="")

    status = FSMField(
        "状态",
        max_length=24,
        choices=ApplicationStatus.choices,
        default=S.PENDING_CHSI,
        protected=False,
    )
    # What the indexes key on instead of `status` (see ALLOCATION_STATUSES): written by the
    # database, equal to the status except that approved, funded and waitlisted are all
    # `approved`. Filter through `in_status` to use it.
    stage = models.GeneratedField(
        expression=models.Case(
            models.When(status__in=ALLOCATION_STATUSES, then=models.Value(S.APPROVED.value)),
            default=models.F("status"),
            output_field=models.CharField(max_length=24),
        ),
        output_field=models.CharField(max_length=24),
        db_persist=True,
        verbose_name="阶段",
    )
    submitted_at = models.DateTimeField("提交时间", default=timezone.now)
    queue_number = models.PositiveIntegerField("排队号")

    # Registry check (SPEC §5)
    registry_dispatched_at = models.DateTimeField("校核任务派发时间", null=True, blank=True)
    registry_attempts = models.PositiveSmallIntegerField("校核尝试次数", default=0)
    registry_checked_at = models.DateTimeField("校核完成时间", null=True, blank=True)
    registry_outcome = models.CharField("校核结果代码", max_length=32, blank=True)
    registry_reason = models.CharField("校核不通过原因", max_length=200, blank=True)
    registry_record = models.JSONField("学信网返回数据", null=True, blank=True)

    # Review decisions, one timestamp per level (stats and overdue marks read them)
    grassroots_decided_at = models.DateTimeField("基层审核时间", null=True, blank=True)
    district_decided_at = models.DateTimeField("区级审核时间", null=True, blank=True)
    city_approved_at = models.DateTimeField("市总审核通过时间", null=True, blank=True)
    rejection_reason = models.CharField("审核不通过原因", max_length=500, blank=True)
    confirmed_employed = models.BooleanField("确认在职职工", default=False)

    # Allocation, publication, payment
    revoked_reason = models.CharField("取消资格原因", max_length=500, blank=True)
    paid_at = models.DateTimeField("发放时间", null=True, blank=True)
    payment_failure_reason = models.CharField("发放失败原因", max_length=200, blank=True)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = "申领"
        verbose_name_plural = "申领"
        ordering = ["queue_number"]
        constraints = [
            # R6: one active (not rejected-and-retryable) application per member and campaign.
            models.UniqueConstraint(
                fields=["campaign", "member"],
                condition=~Q(stage__in=["chsi_failed", "grassroots_rejected", "district_rejected"]),
                name="one_active_application_per_member",
            ),
            models.UniqueConstraint(
                fields=["campaign", "queue_number"], name="unique_queue_number"
            ),
            models.UniqueConstraint(
                fields=["member", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="unique_idempotency_key",
            ),
        ]
        # No index names `status`, in its key, INCLUDE or condition: they key on `stage`. A
        # status change within a stage (allocation's, below) then touches no index and is a
        # heap-only (HOT) update, given room on the row's page: hence fillfactor 50 (set by
        # migration 0054 on PostgreSQL; Django has no option for it). A change of stage (a
        # review decision) still writes every index: each one here is read by a named query,
        # none is implied by another. bench_allocation measures both.
        indexes = [
            models.Index(
                fields=["campaign", "stage", "queue_number"], name="app_campaign_stage_queue"
            ),
            # R3's order (allocation, the public list, payment files) and the opening-day
            # submissions per hour.
            models.Index(
                fields=["campaign", "submitted_at", "city_approved_at", "queue_number"],
                include=["stage", "id"],  # the allocation's ranking reads only this index
                name="app_rank_order",
            ),
            # R4's count of city approvals, taken on every submission (inside the intake lock):
            # empty during the opening rush, so it costs the rush's inserts nothing.
            models.Index(
                fields=["campaign"],
                condition=Q(city_approved_at__isnull=False) & ~Q(stage="revoked"),
                name="app_city_approved",
            ),
            # Exact look-ups through the blind indexes (no LIKE on an HMAC: plain B-trees).
            models.Index(fields=["id_hmac"], name="app_id_hmac"),
            models.Index(fields=["bank_account_hmac"], name="app_bank_account_hmac"),
            # Covering index for the scoped dashboards and statistics: the per-union status
            # counts, name search and the aggregate figures read only the index on PostgreSQL
            # (INCLUDE is ignored elsewhere). Measured in bench_reviews / bench_stats.
            models.Index(
                fields=["campaign", "union", "stage"],
                include=[
                    "name",
                    "queue_number",
                    "worker_group",
                    "kind",
                    "hukou",
                    "member",
                    "submitted_at",
                    "city_approved_at",
                    "registry_checked_at",
                ],
                name="app_campaign_union_cover",
            ),
            models.Index(fields=["mobile"], name="app_mobile"),
            # A member's attempts in a campaign, read by every submission (R6): both columns,
            # so the planner never ANDs the member's few rows with the whole campaign's while
            # the statistics still describe the empty table of a minute ago. Also serves
            # the member's own look-ups, as the foreign key's index did.
            models.Index(fields=["member", "campaign"], name="app_member_campaign"),
            # The registry's time to result in order, for the statistics' median / p95: two
            # short index-only reads at a rank instead of sorting the campaign's rows.
            models.Index(
                F("campaign"),
                F("registry_checked_at") - F("submitted_at"),
                include=["stage", "registry_checked_at", "submitted_at"],
                condition=Q(registry_checked_at__isnull=False),
                name="app_registry_latency",
            ),
        ]

    def __str__(self):
        return f"#{self.queue_number} {self.name}"

    def save(self, *args, **kwargs):
        self.derive_look_ups()
        super().save(*args, **kwargs)

    def derive_look_ups(self):
        """The blind indexes and the last four digits, from the plaintext (every save)."""
        from unions.pii import blind_index

        if self.id_number:
            self.id_hmac = blind_index(self.id_number)
        if self.bank_account:
            self.bank_account_hmac = blind_index(self.bank_account, purpose="account")
            self.bank_account_last4 = self.bank_account[-4:]

    # --- small domain facts -----------------------------------------------------------
    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_account(self) -> str:
        return (
            mask_account(self.bank_account)
            if self.bank_account
            else ("****" + self.bank_account_last4)
        )

    @property
    def is_retryable(self) -> bool:
        return self.status in RETRYABLE_STATUSES

    @property
    def is_priority_group(self) -> bool:
        return self.worker_group in PRIORITY_WORKER_GROUPS

    @property
    def number_label(self) -> str:
        return "学信网学籍学号" if self.kind == ApplicationType.ENROLLMENT else "毕业证书编号"

    # --- the state machine: SPEC §6, one transition per edge ----------------------------
    # Transitions take `by` (the acting user, or None for the system) and `reason`; the
    # audit trail and the notifications read them from the post_transition signal.

    @transition(field=status, source=S.PENDING_CHSI, target=S.PENDING_GRASSROOTS)
    def registry_pass(self, by=None, reason=""):
        pass

    @transition(field=status, source=S.PENDING_CHSI, target=S.CHSI_FAILED)
    def registry_fail(self, by=None, reason=""):
        self.registry_reason = reason

    @transition(
        field=status,
        source=S.PENDING_GRASSROOTS,
        target=S.PENDING_DISTRICT,
        permission=can_act_grassroots,
    )
    def grassroots_approve(self, by=None, reason=""):
        self.confirmed_employed = True
        self.grassroots_decided_at = timezone.now()

    @transition(
        field=status,
        source=S.PENDING_GRASSROOTS,
        target=S.GRASSROOTS_REJECTED,
        permission=can_act_grassroots,
    )
    def grassroots_reject(self, by=None, reason=""):
        self.rejection_reason = reason
        self.grassroots_decided_at = timezone.now()

    @transition(
        field=status, source=S.PENDING_DISTRICT, target=S.PENDING_CITY, permission=can_act_district
    )
    def district_approve(self, by=None, reason=""):
        self.district_decided_at = timezone.now()

    @transition(
        field=status,
        source=S.PENDING_DISTRICT,
        target=S.DISTRICT_REJECTED,
        permission=can_act_district,
    )
    def district_reject(self, by=None, reason=""):
        self.rejection_reason = reason
        self.district_decided_at = timezone.now()

    @transition(field=status, source=S.PENDING_CITY, target=S.APPROVED, permission=can_act_city)
    def city_approve(self, by=None, reason=""):
        self.city_approved_at = timezone.now()

    @transition(
        field=status, source=S.PENDING_CITY, target=S.CITY_REJECTED, permission=can_act_city
    )
    def city_reject(self, by=None, reason=""):
        self.rejection_reason = reason

    # Allocation normally moves these in one set-based UPDATE (payouts.services.allocation);
    # the single-row transitions serve revocation promotion and tests.
    @transition(field=status, source=[S.APPROVED, S.WAITLISTED], target=S.FUNDED)
    def fund(self, by=None, reason=""):
        pass

    @transition(
        field=status, source=[S.APPROVED, S.FUNDED], target=S.WAITLISTED, conditions=[not_published]
    )
    def waitlist(self, by=None, reason=""):
        pass

    @transition(
        field=status,
        source=[S.FUNDED, S.PAYMENT_FAILED],
        target=S.REVOKED,
        permission=can_act_city,
    )
    def revoke(self, by=None, reason=""):
        self.revoked_reason = reason

    @transition(field=status, source=[S.FUNDED, S.PAYMENT_FAILED], target=S.PAID)
    def mark_paid(self, by=None, reason=""):
        self.paid_at = timezone.now()
        self.payment_failure_reason = ""

    @transition(field=status, source=S.FUNDED, target=S.PAYMENT_FAILED)
    def mark_payment_failed(self, by=None, reason=""):
        self.payment_failure_reason = reason


class BankBin(models.Model):
    """Card BIN prefixes (shipped from the community table hexindai/bcbc, MIT licence,
    Copyright (c) 2018-2020 Runrioter — see `subsidy/fixtures/README.md`). City staff edit it."""

    class CardType(models.TextChoices):
        DEBIT = "DC", "借记卡"
        CREDIT = "CC", "信用卡"
        SEMI_CREDIT = "SCC", "准贷记卡"
        PREPAID = "PC", "预付费卡"

    bin = models.CharField("卡BIN", max_length=10)
    bank = models.CharField("银行代码", max_length=16)
    bank_name = models.CharField("银行名称", max_length=64, blank=True)
    card_type = models.CharField("卡类型", max_length=3, choices=CardType.choices)
    length = models.PositiveSmallIntegerField("卡号长度")

    class Meta:
        verbose_name = "银行卡BIN"
        verbose_name_plural = "银行卡BIN"
        ordering = ["bin"]
        constraints = [
            models.UniqueConstraint(
                fields=["bin", "length", "bank", "card_type"], name="unique_bin_row"
            ),
        ]

    def __str__(self):
        return f"{self.bin} {self.bank} {self.get_card_type_display()}"


class CommitmentLetter(models.Model):
    """承诺书: versioned text; the version an applicant accepted is stored with the application."""

    version = models.PositiveIntegerField("版本", unique=True)
    title = models.CharField("标题", max_length=100, default="承诺书")
    text = models.TextField("内容")
    active = models.BooleanField("当前使用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "承诺书"
        verbose_name_plural = "承诺书"
        ordering = ["-version"]

    def __str__(self):
        return f"{self.title} v{self.version}"


class FAQ(models.Model):
    """一问一答 (the notice's attachment 5), shown on every applicant page."""

    position = models.PositiveSmallIntegerField("排序", default=0)
    question = models.CharField("问题", max_length=300)
    answer = models.TextField("回答")
    published = models.BooleanField("显示", default=True)

    class Meta:
        verbose_name = "常见问题"
        verbose_name_plural = "常见问题"
        ordering = ["position", "pk"]

    def __str__(self):
        return self.question


def private_path(*parts: str):
    return settings.PRIVATE_MEDIA_ROOT.joinpath(*parts)


class OneTimeCode(models.Model):
    """A sign-in code, stored as a keyed hash; single use, short-lived."""

    phone = models.CharField("手机号码", max_length=11, db_index=True)
    code_hash = models.CharField("验证码哈希", max_length=64)
    created_at = models.DateTimeField("发送时间", auto_now_add=True)
    expires_at = models.DateTimeField("过期时间")
    used_at = models.DateTimeField("使用时间", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("错误次数", default=0)

    class Meta:
        verbose_name = "登录验证码"
        verbose_name_plural = "登录验证码"

    def __str__(self):
        return f"{self.phone[:3]}****{self.phone[-4:]} {self.created_at:%H:%M}"
