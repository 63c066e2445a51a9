"""The union tree, members and their memberships, and reviewer accounts.

The tree is stored as a materialised path ("/1/7/42/") rather than with recursive CTEs
(django-tree-queries): the question asked thousands of times a day is "is this application's
union inside the reviewer's subtree", and a path prefix answers it with one indexed
`LIKE '/1/7/%'` join — on SQLite and PostgreSQL alike, inside any larger query, without
a CTE. Moves are rare (a union changes parent perhaps once a year) and rewrite the subtree's
paths in one UPDATE.
"""

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from unions.pii import EncryptedCharField, blind_index, mask_id_number, mask_phone


class UnionLevel(models.TextChoices):
    CITY = "city", "市总工会"
    DISTRICT = "district", "区总工会"
    INDUSTRY = "industry", "产业、直属单位工会"
    GRASSROOTS = "grassroots", "基层工会"


class UnionQuerySet(models.QuerySet):
    def subtree_of(self, union_or_unions, include_self=True):
        """All unions under the given union(s), by path prefix."""
        unions = (
            union_or_unions
            if isinstance(union_or_unions, list | tuple | set)
            else [union_or_unions]
        )
        q = Q()
        for u in unions:
            q |= (
                Q(path__startswith=u.path)
                if include_self
                else (Q(path__startswith=u.path) & ~Q(pk=u.pk))
            )
        return self.filter(q) if unions else self.none()

    def eligible(self):
        return self.filter(registered=True, dues_paid=True)


class Union(models.Model):
    name = models.CharField("工会名称", max_length=120, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级工会",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    level = models.CharField("层级", max_length=16, choices=UnionLevel.choices)
    path = models.CharField("树路径", max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField("深度", default=0, editable=False)
    # The level-2 ancestor (a district federation or an industry union); the city has none.
    district = models.ForeignKey(
        "self",
        verbose_name="所属区总工会/产业工会",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    registered = models.BooleanField("已在平台注册", default=True)
    dues_paid = models.BooleanField("已按规定缴交工会经费", default=True)
    contact_phone = models.CharField("联系电话", max_length=32, blank=True)
    hotline = models.CharField(
        "咨询电话", max_length=64, blank=True, help_text="多个号码用分号分隔（区总工会咨询电话）"
    )

    objects = UnionQuerySet.as_manager()

    class Meta:
        verbose_name = "工会"
        verbose_name_plural = "工会"
        ordering = ["path"]

    def __str__(self):
        return self.name

    @property
    def is_eligible(self) -> bool:
        return self.registered and self.dues_paid

    def ancestors(self):
        ids = [int(p) for p in self.path.strip("/").split("/") if p]
        return Union.objects.filter(pk__in=ids).order_by("depth")

    def descendants(self, include_self=True):
        return Union.objects.subtree_of(self, include_self=include_self)

    def is_within(self, other: "Union") -> bool:
        return self.path.startswith(other.path)

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.parent_id and self.path and self.parent.path.startswith(self.path):
            raise ValidationError({"parent": "上级工会不能是本工会或其下级工会"})
        if self.level == UnionLevel.CITY and self.parent_id:
            raise ValidationError({"parent": "市总工会不能有上级工会"})
        if self.level != UnionLevel.CITY and not self.parent_id:
            raise ValidationError({"parent": "请选择上级工会"})

    def save(self, *args, **kwargs):
        with transaction.atomic():
            old_path = None
            if self.pk:
                old_path = Union.objects.filter(pk=self.pk).values_list("path", flat=True).first()
            else:
                super().save(*args, **kwargs)
                kwargs.pop("force_insert", None)
            parent = self.parent
            if parent is not None and (
                parent.pk == self.pk or (old_path and parent.path.startswith(old_path))
            ):
                raise ValueError("a union cannot be moved under itself or its own descendant")
            self.path = f"{parent.path if parent else '/'}{self.pk}/"
            self.depth = (parent.depth + 1) if parent else 0
            if parent is None:
                self.district = None
            elif parent.parent_id is None:
                self.district = self
            else:
                self.district = parent.district
            super().save(*args, **kwargs)
            if old_path and old_path != self.path:
                self._move_subtree(old_path)

    def _move_subtree(self, old_path):
        """Recompute the descendants' paths, depths and districts after a move. Moves are rare
        (a handful a year), so each direct child re-saves and recurses into its own subtree."""
        for child in Union.objects.filter(parent=self).order_by("pk"):
            child.parent = self
            child.save()


class MembershipStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    ACTIVE = "active", "有效"
    TRANSFERRED_OUT = "transferred_out", "已转出"


class MemberQuerySet(models.QuerySet):
    def by_id_number(self, id_number: str):
        return self.filter(id_hmac=blind_index(id_number))


class Member(models.Model):
    """A real-name verified union member (会员)."""

    name = models.CharField("姓名", max_length=50)
    id_number = EncryptedCharField("身份证号码")
    id_hmac = models.CharField("身份证号索引", max_length=64, unique=True, editable=False)
    mobile = models.CharField("手机号码", max_length=11, unique=True)
    union = models.ForeignKey(
        Union, verbose_name="所属工会", on_delete=models.PROTECT, related_name="members"
    )
    status = models.CharField(
        "会籍状态",
        max_length=16,
        choices=MembershipStatus.choices,
        default=MembershipStatus.PENDING,
    )
    active_since = models.DateTimeField("会籍生效时间", null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="登录账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = "会员"
        verbose_name_plural = "会员"
        ordering = ["pk"]

    def __str__(self):
        return f"{self.name}（{self.masked_id_number}）"

    def save(self, *args, **kwargs):
        if self.id_number:
            self.id_hmac = blind_index(self.id_number)
        super().save(*args, **kwargs)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_mobile(self) -> str:
        return mask_phone(self.mobile)

    def is_active_member(self, deadline=None) -> bool:
        """Active, and (when a deadline is given) active since no later than it."""
        if self.status != MembershipStatus.ACTIVE or self.active_since is None:
            return False
        return deadline is None or self.active_since <= deadline


class RequestStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "已拒绝"


class MembershipRequest(models.Model):
    """What a request about a membership has, whichever it is: its status, when it was made,
    and who decided it when (the union admin that approves or refuses it)."""

    status = models.CharField(
        "状态", max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    requested_at = models.DateTimeField("申请时间", default=timezone.now)
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        abstract = True

    def decide(self, status: str, by, at=None) -> None:
        """Record the decision (saved: status, decided_at, decided_by)."""
        self.status, self.decided_at, self.decided_by = status, at or timezone.now(), by
        self.save(update_fields=["status", "decided_at", "decided_by"])


class JoinRequest(MembershipRequest):
    """A person asking to join a grassroots union; the union admin approves (实名入会)."""

    member = models.ForeignKey(
        Member, verbose_name="会员", on_delete=models.CASCADE, related_name="join_requests"
    )
    union = models.ForeignKey(Union, verbose_name="申请加入的工会", on_delete=models.PROTECT)

    class Meta:
        verbose_name = "入会申请"
        verbose_name_plural = "入会申请"
        constraints = [
            models.UniqueConstraint(
                fields=["member"], condition=Q(status="pending"), name="one_pending_join_request"
            ),
        ]

    def __str__(self):
        return f"{self.member.name} → {self.union}"


class TransferRequest(MembershipRequest):
    """会籍转移: a member moves to another union once that union approves."""

    member = models.ForeignKey(
        Member, verbose_name="会员", on_delete=models.CASCADE, related_name="transfer_requests"
    )
    from_union = models.ForeignKey(
        Union, verbose_name="转出工会", on_delete=models.PROTECT, related_name="+"
    )
    to_union = models.ForeignKey(
        Union, verbose_name="转入工会", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "会籍转移"
        verbose_name_plural = "会籍转移"
        constraints = [
            models.UniqueConstraint(
                fields=["member"], condition=Q(status="pending"), name="one_pending_transfer"
            ),
        ]

    def __str__(self):
        return f"{self.member.name}: {self.from_union} → {self.to_union}"


class MembershipEvent(models.Model):
    """The membership history of a member: joined, transferred (from → to)."""

    class Kind(models.TextChoices):
        JOINED = "joined", "入会"
        TRANSFERRED = "transferred", "会籍转移"

    member = models.ForeignKey(
        Member, verbose_name="会员", on_delete=models.CASCADE, related_name="membership_events"
    )
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    from_union = models.ForeignKey(
        Union,
        verbose_name="原工会",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_union = models.ForeignKey(
        Union, verbose_name="新工会", on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField("时间", default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "会籍记录"
        verbose_name_plural = "会籍记录"
        ordering = ["member", "at", "pk"]

    def __str__(self):
        return f"{self.member.name} {self.get_kind_display()} {self.to_union}"


class ReviewerLevel(models.TextChoices):
    GRASSROOTS = "grassroots", "基层工会"
    DISTRICT = "district", "区总工会，产业、直属单位工会"
    CITY = "city", "市总工会"


def reviewer_level(user) -> str | None:
    """The level at which `user` reviews (a ReviewerLevel value), or None when they may not
    review: no reviewer profile, a disabled one, or one without the review permission. The one
    answer for the state machine's permissions, the review desk and its API."""
    reviewer = getattr(user, "reviewer", None)
    if reviewer is None or not reviewer.active or not reviewer.can_review:
        return None
    return reviewer.level


class ReviewerProfile(models.Model):
    """A reviewer's account: level, the unions they manage and what they may do."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="登录账号",
        on_delete=models.CASCADE,
        related_name="reviewer",
    )
    name = models.CharField("姓名", max_length=50)
    phone = models.CharField("手机号码", max_length=11, blank=True, db_index=True)
    email = models.EmailField("邮箱", blank=True)
    # 所属工会 of the roster (attachment 4): where the admin works, as written; free text.
    affiliation = models.CharField("所属工会", max_length=120, blank=True)
    level = models.CharField("审核层级", max_length=16, choices=ReviewerLevel.choices)
    managed_unions = models.ManyToManyField(
        Union, verbose_name="管理的工会", related_name="reviewers", blank=True
    )
    # Who the reviewer is as a person, so they never see their own application (SPEC §2
    # "conflict of interest"): the member record they were linked to (by the roster import,
    # the reviewer form or migration 0004, when the mobile or ID number matched), and the ID
    # number given for the account, kept as ciphertext and as a blind index.
    member = models.ForeignKey(
        Member,
        verbose_name="本人会员记录",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reviewer_accounts",
        help_text="审核员本人的会员记录：本人的申领对其不可见",
    )
    id_number = EncryptedCharField("身份证号码", blank=True, default="")
    id_hmac = models.CharField(
        "身份证号索引", max_length=64, blank=True, default="", editable=False, db_index=True
    )
    can_review = models.BooleanField("审核权限", default=True)
    can_manage_reviewers = models.BooleanField("管理审核员权限", default=False)
    active = models.BooleanField("启用", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "审核员"
        verbose_name_plural = "审核员"
        constraints = [
            # grassroots reviewers sign in by SMS code to this number: it must name one account
            models.UniqueConstraint(
                fields=["phone"], condition=~Q(phone=""), name="unique_reviewer_phone"
            ),
        ]

    def __str__(self):
        return f"{self.name}（{self.get_level_display()}）"

    def save(self, *args, **kwargs):
        self.id_hmac = blind_index(self.id_number) if self.id_number else ""
        if kwargs.get("update_fields") is not None and "id_number" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "id_hmac"}
        super().save(*args, **kwargs)

    @property
    def is_city(self) -> bool:
        return self.level == ReviewerLevel.CITY

    def scope_unions(self):
        """Every union this reviewer may see: city staff see all, others their subtrees."""
        if self.is_city:
            return Union.objects.all()
        managed = list(self.managed_unions.all())
        if self.level == ReviewerLevel.GRASSROOTS:
            return Union.objects.filter(pk__in=[u.pk for u in managed])
        return Union.objects.subtree_of(managed)
