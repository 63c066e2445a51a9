"""Allocation, publication and payment data, and the lifetime grant ledger (R5)."""

from django.db import models


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
