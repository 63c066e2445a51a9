"""Allocation, publication and payment data, and the lifetime grant ledger (R5)."""

from django.conf import settings
from django.db import models

from unions.pii import EncryptedCharField


class GrantLedger(models.Model):
    """One row per person per grant, keyed by the ID number's HMAC: a member is funded at most
    once across all campaigns (R5). Rows before the system existed are imported."""

    id_hmac = models.CharField("身份证号索引", max_length=64, db_index=True)
    name = models.CharField("姓名", max_length=50)
    year = models.PositiveSmallIntegerField("年度")
    amount_cny = models.DecimalField("金额（元）", max_digits=8, decimal_places=2)
    application = models.OneToOneField(
        "subsidy.Application",
        verbose_name="申领",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entry",
    )
    source = models.CharField(
        "来源",
        max_length=16,
        default="system",
        choices=[("system", "本系统发放"), ("import", "历史导入")],
    )
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    class Meta:
        verbose_name = "补助发放台账"
        verbose_name_plural = "补助发放台账"
        ordering = ["-year", "pk"]
        constraints = [
            # R5: one lifetime grant per person.
            models.UniqueConstraint(fields=["id_hmac"], name="one_lifetime_grant"),
        ]

    def __str__(self):
        return f"{self.name} {self.year}"


class PaymentBatch(models.Model):
    """One ICBC bulk-payment (批量代发) batch. Its files are written once, when the batch is
    created, and never regenerated: the bank pays what the file said."""

    campaign = models.ForeignKey(
        "subsidy.Campaign", verbose_name="批次", on_delete=models.PROTECT, related_name="batches"
    )
    number = models.PositiveIntegerField("发放批号")
    item_count = models.PositiveIntegerField("笔数")
    total_cny = models.DecimalField("总金额（元）", max_digits=14, decimal_places=2)
    csv_path = models.CharField("CSV 文件（私有存储）", max_length=255)
    xlsx_path = models.CharField("XLSX 文件（私有存储）", max_length=255)
    csv_sha256 = models.CharField("CSV 摘要", max_length=64)
    xlsx_sha256 = models.CharField("XLSX 摘要", max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    result_imported_at = models.DateTimeField("回盘导入时间", null=True, blank=True)
    result_imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="回盘导入人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "发放批次"
        verbose_name_plural = "发放批次"
        ordering = ["-campaign__year", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="unique_batch_number"),
        ]

    def __str__(self):
        return f"{self.campaign.year} 年第 {self.number} 批"

    @property
    def label(self) -> str:
        return str(self)


class PaymentResult(models.TextChoices):
    PENDING = "pending", "待回盘"
    SUCCESS = "success", "成功"
    FAILURE = "failure", "失败"


class PaymentItem(models.Model):
    """One row of a batch: a snapshot of what was sent to the bank, and the bank's answer."""

    batch = models.ForeignKey(
        PaymentBatch, verbose_name="发放批次", on_delete=models.PROTECT, related_name="items"
    )
    application = models.ForeignKey(
        "subsidy.Application",
        verbose_name="申领",
        on_delete=models.PROTECT,
        related_name="payment_items",
    )
    line = models.PositiveIntegerField("序号")
    name = models.CharField("户名", max_length=50)
    account = EncryptedCharField("账号")
    account_hmac = models.CharField("账号索引", max_length=64, db_index=True)
    account_last4 = models.CharField("账号后四位", max_length=4)
    branch = models.CharField("开户支行", max_length=100)
    amount_cny = models.DecimalField("金额（元）", max_digits=8, decimal_places=2)
    remark = models.CharField("备注", max_length=100)
    result = models.CharField(
        "发放结果", max_length=8, choices=PaymentResult.choices, default=PaymentResult.PENDING
    )
    failure_reason = models.CharField("失败原因", max_length=200, blank=True)
    result_at = models.DateTimeField("回盘时间", null=True, blank=True)

    class Meta:
        verbose_name = "发放明细"
        verbose_name_plural = "发放明细"
        ordering = ["batch", "line"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "line"], name="unique_batch_line"),
            models.UniqueConstraint(
                fields=["batch", "application"], name="one_item_per_application_per_batch"
            ),
            # An application is in at most one batch that is still waiting for the bank.
            models.UniqueConstraint(
                fields=["application"],
                condition=models.Q(result="pending"),
                name="one_pending_payment_per_application",
            ),
        ]

    def __str__(self):
        return f"{self.batch} #{self.line}"

    @property
    def masked_account(self) -> str:
        return "****" + self.account_last4


class PaymentFileDownload(models.Model):
    """Every download of a batch file: who and when (the file holds full account numbers)."""

    batch = models.ForeignKey(
        PaymentBatch, verbose_name="发放批次", on_delete=models.CASCADE, related_name="downloads"
    )
    file_format = models.CharField("格式", max_length=8)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="下载人", null=True, on_delete=models.SET_NULL
    )
    ip = models.GenericIPAddressField("IP", null=True, blank=True)
    downloaded_at = models.DateTimeField("下载时间", auto_now_add=True)

    class Meta:
        verbose_name = "发放文件下载记录"
        verbose_name_plural = "发放文件下载记录"
        ordering = ["-downloaded_at"]

    def __str__(self):
        return f"{self.batch} {self.file_format} {self.downloaded_at:%Y-%m-%d %H:%M}"


class AccountCorrection(models.Model):
    """City staff corrected an applicant's bank account after a failed payment (audited; only
    the last four digits are kept here)."""

    application = models.ForeignKey(
        "subsidy.Application",
        verbose_name="申领",
        on_delete=models.PROTECT,
        related_name="account_corrections",
    )
    old_last4 = models.CharField("原账号后四位", max_length=4)
    new_last4 = models.CharField("新账号后四位", max_length=4)
    old_branch = models.CharField("原开户支行", max_length=100, blank=True)
    new_branch = models.CharField("新开户支行", max_length=100, blank=True)
    reason = models.CharField("更正原因", max_length=200)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="更正人", null=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField("更正时间", auto_now_add=True)

    class Meta:
        verbose_name = "银行账号更正记录"
        verbose_name_plural = "银行账号更正记录"
        ordering = ["-at"]

    def __str__(self):
        return f"{self.application_id} ****{self.old_last4} → ****{self.new_last4}"


class SupplementaryListing(models.Model):
    """补充公示 (R7, SPEC §8): an application funded after the main list was published — the
    promotion that fills a place a revocation freed, or a late city approval given a free
    place — is published on a supplementary list under the main one for its own period
    (the campaign's publication length, from `listed_at`), and paid only after it ends."""

    campaign = models.ForeignKey(
        "subsidy.Campaign",
        verbose_name="批次",
        on_delete=models.PROTECT,
        related_name="supplementary_listings",
    )
    application = models.OneToOneField(
        "subsidy.Application",
        verbose_name="申领",
        on_delete=models.PROTECT,
        related_name="supplementary_listing",
    )
    # The revoked grantee whose place this one takes (None for a late approval's free place).
    replaces = models.ForeignKey(
        "subsidy.Application",
        verbose_name="递补的原获补助申领",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField("列入原因", max_length=200)
    listed_at = models.DateTimeField("补充公示开始时间")
    ends_at = models.DateTimeField("补充公示结束时间")

    class Meta:
        verbose_name = "补充公示"
        verbose_name_plural = "补充公示"
        ordering = ["campaign", "listed_at", "pk"]
        indexes = [models.Index(fields=["campaign", "ends_at"], name="supplementary_period")]

    def __str__(self):
        return f"{self.campaign} 补充公示 {self.application_id}"

    def is_open(self, now) -> bool:
        return self.listed_at <= now < self.ends_at
