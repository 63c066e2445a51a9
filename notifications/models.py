"""The notification outbox, applicants' WeChat bindings, and the inquiry register.

`Notification` is the outbox (SPEC §9): one row per message, written in the transaction that
makes the change it reports, delivered afterwards by `notifications.tasks.deliver`. The
delivery protocol and what it guarantees are in `notifications/services/delivery.py`.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from unions.models import Union
from unions.pii import mask_phone


class Channel(models.TextChoices):
    WECHAT = "wechat", "微信订阅消息"
    SMS = "sms", "短信"
    EMAIL = "email", "电子邮件"
    CONSOLE = "console", "控制台（开发）"
    FILE = "file", "文件（开发）"


class NotificationKind(models.TextChoices):
    APPLICANT_STATUS = "applicant_status", "申领进度通知"
    GRASSROOTS_NEW = "grassroots_new", "基层工会待审核提醒"
    STAFF_DIGEST = "staff_digest", "每日工作提醒"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "待发送"
    SENDING = "sending", "发送中"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"
    # The worker died (or the provider timed out) after the request may have left: we do not
    # know whether the recipient got it, so we do not send it again by ourselves.
    UNCONFIRMED = "unconfirmed", "发送结果待核实"


class Notification(models.Model):
    key = models.UUIDField("幂等键", default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField("类型", max_length=24, choices=NotificationKind.choices)
    channel = models.CharField("渠道", max_length=16, choices=Channel.choices)
    recipient = models.CharField("接收方", max_length=128)
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="接收账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    application = models.ForeignKey(
        "subsidy.Application",
        verbose_name="申领",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    transition = models.CharField("触发的状态变更", max_length=80, blank=True)
    subject = models.CharField("标题", max_length=100, blank=True)
    text = models.TextField("内容")
    # WeChat subscribe message: template id and its `data` mapping.
    template_id = models.CharField("模板ID", max_length=64, blank=True)
    data = models.JSONField("模板数据", default=dict, blank=True)

    status = models.CharField(
        "状态", max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试时间", default=timezone.now)
    lease_until = models.DateTimeField("租约到期", null=True, blank=True)
    claim_token = models.UUIDField("领取令牌", null=True, blank=True, editable=False)
    last_error = models.CharField("最近错误", max_length=300, blank=True)
    channel_message_id = models.CharField("渠道消息ID", max_length=128, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)

    class Meta:
        verbose_name = "通知发送记录"
        verbose_name_plural = "通知发送记录"
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The sweeper's question: which unfinished rows are due?
            models.Index(
                fields=["next_attempt_at"],
                name="notif_due",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["application", "created_at"], name="notif_application"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} → {self.masked_recipient}"

    @property
    def masked_recipient(self) -> str:
        r = self.recipient
        if self.channel == Channel.SMS:
            return mask_phone(r)
        if self.channel == Channel.WECHAT and len(r) > 8:
            return r[:4] + "****" + r[-4:]
        return r


class WeChatBinding(models.Model):
    """An applicant's mini-program openid and whether they authorised 微信通知提醒."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="账号",
        on_delete=models.CASCADE,
        related_name="wechat_binding",
    )
    openid = models.CharField("OpenID", max_length=64, unique=True)
    subscribed = models.BooleanField("已授权订阅消息", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "微信绑定"
        verbose_name_plural = "微信绑定"

    def __str__(self):
        return f"{self.user} ↔ {self.openid[:4]}****"


class InquiryCategory(models.TextChoices):
    CONSULTATION = "consultation", "政策咨询"
    APPEAL = "appeal", "诉求"
    SUGGESTION = "suggestion", "建议"
    COMPLAINT = "complaint", "投诉"
    OTHER = "other", "其他"


class InquiryStatus(models.TextChoices):
    OPEN = "open", "待处理"
    ANSWERED = "answered", "已答复"
    CLOSED = "closed", "已办结"


class InquiryQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Scoped like applications: city staff all, district / industry reviewers their
        subtree, grassroots reviewers their managed unions (ReviewerProfile.scope_unions)."""
        if user is None or not user.is_authenticated:
            return self.none()
        reviewer = getattr(user, "reviewer", None)
        if reviewer is not None and reviewer.active:
            if reviewer.is_city:
                return self
            return self.filter(union__in=reviewer.scope_unions())
        if user.is_superuser:
            return self
        return self.none()


class Inquiry(models.Model):
    """职工诉求、建议登记 (notice 六(一)): who asked what, and how the union answered."""

    campaign = models.ForeignKey(
        "subsidy.Campaign",
        verbose_name="批次",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inquiries",
    )
    union = models.ForeignKey(
        Union, verbose_name="所属工会", on_delete=models.PROTECT, related_name="inquiries"
    )
    name = models.CharField("职工姓名", max_length=50)
    phone = models.CharField("联系电话", max_length=32)
    category = models.CharField(
        "类别", max_length=16, choices=InquiryCategory.choices, default=InquiryCategory.OTHER
    )
    text = models.TextField("诉求/建议内容")
    answer = models.TextField("答复/处理情况", blank=True)
    status = models.CharField(
        "状态", max_length=12, choices=InquiryStatus.choices, default=InquiryStatus.OPEN
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = InquiryQuerySet.as_manager()

    class Meta:
        verbose_name = "职工诉求、建议登记"
        verbose_name_plural = "职工诉求、建议登记"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["union", "status"], name="inquiry_union_status")]

    def __str__(self):
        return f"{self.name}：{self.get_category_display()}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class DistrictHotline(Union):
    """The district / industry unions' consultation phones (附件1), edited by city staff in
    the admin; a proxy so this app need not own the union admin."""

    class Meta:
        proxy = True
        verbose_name = "区总工会咨询电话"
        verbose_name_plural = "区总工会咨询电话"
