"""Reconciliation (对账): batch totals vs the bank's results vs the ledger (SPEC §8).

Every check is listed with what was expected and what was found; a mismatch is shown, never
silently accepted.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Sum

from payouts.models import GrantLedger, PaymentBatch, PaymentResult
from subsidy.models import ApplicationStatus

ZERO = Decimal("0.00")


@dataclass
class Check:
    label: str
    expected: object
    actual: object

    @property
    def ok(self) -> bool:
        return self.expected == self.actual


def _agg(qs):
    d = qs.aggregate(n=Count("id"), total=Sum("amount_cny"))
    return d["n"] or 0, d["total"] or ZERO


def reconcile_batch(batch: PaymentBatch) -> list[Check]:
    items = batch.items.all()
    n, total = _agg(items)
    ok_n, ok_total = _agg(items.filter(result=PaymentResult.SUCCESS))
    fail_n, fail_total = _agg(items.filter(result=PaymentResult.FAILURE))
    pending_n = items.filter(result=PaymentResult.PENDING).count()
    amount = batch.campaign.amount_cny
    ledger_n, ledger_total = _agg(
        GrantLedger.objects.filter(
            application__payment_items__batch=batch,
            application__payment_items__result=PaymentResult.SUCCESS,
        )
    )
    not_paid = (
        items.filter(result=PaymentResult.SUCCESS)
        .exclude(application__status=ApplicationStatus.PAID)
        .count()
    )
    checks = [
        Check("明细笔数 = 批次记录笔数", batch.item_count, n),
        Check("明细金额合计 = 批次记录总金额", batch.total_cny, total),
        Check(f"笔数 × {amount:.2f} = 批次总金额", amount * batch.item_count, batch.total_cny),
        Check("每笔金额均为补助标准", n, items.filter(amount_cny=amount).count()),
    ]
    if batch.result_imported_at:
        checks += [
            Check("回盘笔数（成功 + 失败）= 批次笔数", batch.item_count, ok_n + fail_n),
            Check("未回盘笔数", 0, pending_n),
            Check("回盘金额（成功 + 失败）= 批次总金额", batch.total_cny, ok_total + fail_total),
            Check("成功笔数 = 台账新增笔数", ok_n, ledger_n),
            Check("成功金额 = 台账新增金额", ok_total, ledger_total),
            Check("成功笔数中申领状态不是“已发放”的", 0, not_paid),
        ]
    return checks


def batch_summary(batch: PaymentBatch) -> dict:
    items = batch.items.all()
    ok_n, ok_total = _agg(items.filter(result=PaymentResult.SUCCESS))
    fail_n, fail_total = _agg(items.filter(result=PaymentResult.FAILURE))
    checks = reconcile_batch(batch)
    return {
        "batch": batch,
        "paid": ok_n,
        "paid_total": ok_total,
        "failed": fail_n,
        "failed_total": fail_total,
        "pending": items.filter(result=PaymentResult.PENDING).count(),
        "checks": checks,
        "mismatches": [c for c in checks if not c.ok],
    }
