"""The tamper-evident audit trail of every transition, and the log of PII views."""

from django.conf import settings
from django.db import models


class AuditRecord(models.Model):
    """One transition of one application. `hash` covers this record's fields and the previous
    record's hash, so altering or deleting any record breaks the chain from there on
    (`manage.py verify_audit`)."""

    seq = models.BigIntegerField("序号", unique=True)
    application = models.ForeignKey(
        "subsidy.Application",
        verbose_name="申领",
        on_delete=models.PROTECT,
        related_name="audit_records",
    )
    transition = models.CharField("操作", max_length=40)
    from_status = models.CharField("原状态", max_length=24)
    to_status = models.CharField("新状态", max_length=24)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField("操作人姓名", max_length=100, blank=True)
    level = models.CharField("层级", max_length=16, blank=True)
    union = models.ForeignKey(
        "unions.Union",
        verbose_name="操作人工会",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField("原因", max_length=500, blank=True)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)
    created_at = models.DateTimeField("时间")
    prev_hash = models.CharField("前一记录哈希", max_length=64)
    hash = models.CharField("哈希", max_length=64, unique=True)

    class Meta:
        verbose_name = "审核记录"
        verbose_name_plural = "审核记录"
        ordering = ["seq"]
        indexes = [models.Index(fields=["application", "seq"], name="audit_app_seq")]

    def __str__(self):
        return f"{self.seq} {self.from_status}→{self.to_status}"


class PIIViewLog(models.Model):
    """Who saw which unmasked ID number, account number or card photo, and when."""

    class Field(models.TextChoices):
        ID_NUMBER = "id_number", "身份证号码"
        BANK_ACCOUNT = "bank_account", "银行账号"
        CARD_PHOTO = "card_photo", "银行卡照片"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="查看人", on_delete=models.PROTECT, related_name="+"
    )
    application = models.ForeignKey(
        "subsidy.Application",
        verbose_name="申领",
        on_delete=models.PROTECT,
        related_name="pii_views",
    )
    field = models.CharField("字段", max_length=16, choices=Field.choices)
    viewed_at = models.DateTimeField("时间", auto_now_add=True)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)

    class Meta:
        verbose_name = "敏感信息查看记录"
        verbose_name_plural = "敏感信息查看记录"
        ordering = ["-viewed_at"]

    def __str__(self):
        return f"{self.user} {self.get_field_display()} {self.viewed_at:%Y-%m-%d %H:%M}"


class ChainHead(models.Model):
    """The newest record of the audit chain (one row). Appends move it in the same transaction,
    so `verify_audit` can tell that records were cut off the end of the chain."""

    seq = models.BigIntegerField("最新序号", default=0)
    hash = models.CharField("最新哈希", max_length=64)

    class Meta:
        verbose_name = "审核记录链头"
        verbose_name_plural = "审核记录链头"

    def __str__(self):
        return f"{self.seq} {self.hash[:12]}"


class OpenedApplication(models.Model):
    """A reviewer opened this application's detail page: batch approval only covers rows the
    reviewer has actually looked at (SPEC §6)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审核员", on_delete=models.CASCADE, related_name="+"
    )
    application = models.ForeignKey(
        "subsidy.Application",
        verbose_name="申领",
        on_delete=models.CASCADE,
        related_name="+",
    )
    opened_at = models.DateTimeField("打开时间", auto_now=True)

    class Meta:
        verbose_name = "已查看的申领"
        verbose_name_plural = "已查看的申领"
        constraints = [
            models.UniqueConstraint(fields=["user", "application"], name="opened_once_per_user")
        ]

    def __str__(self):
        return f"{self.user_id} → {self.application_id}"
