"""Payment (发放, SPEC §8, notice 五(十)): ICBC bulk-payment batches and the bank's results.

- `create_batch`: after the publication period, every funded application not yet in a batch
  (plus failed ones whose account city staff have since corrected) becomes one row of a new
  batch. The CSV and XLSX files are written once, at creation, under PRIVATE_MEDIA_ROOT, with
  their SHA-256 kept; they are never regenerated (`open_batch_file` refuses a changed file).
- `import_result`: the bank's result file marks each row paid or payment_failed. Every row is
  checked first; one bad row (unknown account, wrong amount, duplicate, not in this batch …)
  means a per-row Chinese error list and nothing applied.
- Paid grants enter the lifetime ledger (R5) in the same transaction.
"""

import csv
import hashlib
import io
import os
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from payouts.models import AccountCorrection, GrantLedger, PaymentBatch, PaymentItem, PaymentResult
from payouts.services.errors import PayoutError
from payouts.services.ledger import record_paid_grant
from payouts.services.locking import lock_campaign
from subsidy.models import RANK_ORDER, Application, ApplicationStatus, Campaign
from subsidy.services import bank
from unions.pii import blind_index, fernet, mask_account, scrub
from unions.validators import clean_free_text, normalise_input, refuse_garbled

S = ApplicationStatus
HEADERS = ["账号", "户名", "金额", "开户支行", "备注"]
RESULT_HEADERS = ["账号", "户名", "金额", "结果", "失败原因"]
SUCCESS_WORDS = {"成功", "success", "SUCCESS", "Success"}
FAILURE_WORDS = {"失败", "failure", "FAILURE", "Failure", "failed"}


# --- which applications are due ------------------------------------------------------------
def payable_applications(campaign: Campaign, now=None):
    """Funded and never in a batch — a row of the supplementary list (补充公示) only once its own
    period has ended; or failed, with the account corrected after the failure."""
    now = now or timezone.now()
    funded = (
        Application.objects.in_status(S.FUNDED)
        .filter(campaign=campaign)
        .exclude(payment_items__result__in=[PaymentResult.PENDING, PaymentResult.SUCCESS])
        .exclude(supplementary_listing__ends_at__gt=now)
    )
    failed_ids = []
    failed = (
        Application.objects.in_status(S.PAYMENT_FAILED)
        .filter(campaign=campaign)
        .annotate(
            last_failure=Max("payment_items__result_at"),
            last_correction=Max("account_corrections__at"),
        )
    )
    for app_id, last_failure, last_correction in failed.values_list(
        "id", "last_failure", "last_correction"
    ):
        if last_correction and (last_failure is None or last_correction > last_failure):
            failed_ids.append(app_id)
    pending = PaymentItem.objects.filter(result=PaymentResult.PENDING).values("application_id")
    return (
        Application.objects.filter(Q(pk__in=funded.values("pk")) | Q(pk__in=failed_ids))
        .exclude(pk__in=pending)
        .order_by(*RANK_ORDER)
    )


def supplementary_waiting(campaign: Campaign, now=None) -> dict | None:
    """Funded rows of the supplementary list still inside their period: {count, ends_at} of
    the next to end, or None."""
    now = now or timezone.now()
    qs = Application.objects.in_status(S.FUNDED).filter(
        campaign=campaign, supplementary_listing__ends_at__gt=now
    )
    first = qs.aggregate(n=Count("pk"), ends=Min("supplementary_listing__ends_at"))
    return {"count": first["n"], "ends_at": first["ends"]} if first["n"] else None


def payment_open(campaign: Campaign, now=None) -> bool:
    now = now or timezone.now()
    return campaign.is_published and now >= campaign.publication_ends_at


# --- batch creation ------------------------------------------------------------------------
def create_batch(campaign_id: int, by=None, now=None) -> PaymentBatch:
    with transaction.atomic():
        lock_campaign(campaign_id)
        campaign = Campaign.objects.get(pk=campaign_id)
        if not campaign.is_published:
            raise PayoutError("list_not_published")
        if not payment_open(campaign, now):
            raise PayoutError(
                "publication_not_ended",
                f"公示期至 {timezone.localtime(campaign.publication_ends_at):%Y-%m-%d %H:%M}"
                " 结束，公示结束后才能发放",
                409,
            )
        apps = list(
            payable_applications(campaign, now).only(
                "id", "name", "bank_account", "bank_branch", "queue_number"
            )
        )
        if not apps:
            waiting = supplementary_waiting(campaign, now)
            if waiting:
                raise PayoutError(
                    "supplementary_not_ended",
                    f"补充公示中的 {waiting['count']} 人须待补充公示期结束（"
                    f"{timezone.localtime(waiting['ends_at']):%Y-%m-%d %H:%M}）后才能发放",
                    409,
                )
            raise PayoutError("nothing_to_pay", "没有待发放的申领", 409)
        _refuse_shared_accounts(apps)
        number = (campaign.batches.aggregate(n=Max("number"))["n"] or 0) + 1
        amount = campaign.amount_cny
        remark = f"{campaign.year}年职工学历教育补助"
        batch = PaymentBatch.objects.create(
            campaign=campaign,
            number=number,
            item_count=len(apps),
            total_cny=amount * len(apps),
            created_by=by,
            csv_path="",
            xlsx_path="",
            csv_sha256="",
            xlsx_sha256="",
        )
        items = []
        for line, app in enumerate(apps, 1):
            account = app.bank_account
            items.append(
                PaymentItem(
                    batch=batch,
                    application_id=app.pk,
                    line=line,
                    name=app.name,
                    account=account,
                    account_hmac=blind_index(account, purpose="account"),
                    account_last4=account[-4:],
                    branch=app.bank_branch,
                    amount_cny=amount,
                    remark=remark,
                )
            )
        PaymentItem.objects.bulk_create(items, batch_size=1000)
        _write_files(batch, items)
        batch.save(update_fields=["csv_path", "xlsx_path", "csv_sha256", "xlsx_sha256"])
    return batch


def _refuse_shared_accounts(apps):
    """Results come back keyed by account: two applicants sharing one cannot be told apart."""
    seen = {}
    for app in apps:
        seen.setdefault(app.bank_account, []).append(app)
    shared = [group for group in seen.values() if len(group) > 1]
    if shared:
        names = "；".join(
            f"账号 {mask_account(g[0].bank_account)}：" + "、".join(a.name for a in g)
            for g in shared[:5]
        )
        raise PayoutError(
            "shared_account",
            f"有 {len(shared)} 个银行账号被多名申领人同时使用，请先核实更正：{names}",
            409,
        )


def _rows(items):
    for it in items:
        yield [it.account, it.name, f"{it.amount_cny:.2f}", it.branch, it.remark]


ENCRYPTED_SUFFIX = ".enc"


def _write_files(batch: PaymentBatch, items) -> None:
    """Write the bank files once (O_EXCL refuses to overwrite an existing file), encrypted at
    rest with the PII key (SPEC §12: they hold every payee's full account number) and readable
    by the application's own user only. The recorded SHA-256 is the plain file's — what the
    bank receives; `open_batch_file` decrypts and checks it."""
    folder = settings.PRIVATE_MEDIA_ROOT / "payments"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)  # mkdir's mode is cut by the umask; the folder may predate this
    stem = f"{batch.campaign.year}-batch-{batch.number:03d}-{batch.pk}"
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADERS)
    writer.writerows(_rows(items))
    csv_bytes = ("\ufeff" + buf.getvalue()).encode("utf-8")
    xlsx_bytes = _xlsx_bytes(items)
    for ext, content in (("csv", csv_bytes), ("xlsx", xlsx_bytes)):
        path = folder / f"{stem}.{ext}{ENCRYPTED_SUFFIX}"
        # created 0600 (never wider, whatever the umask), then set to exactly 0600
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(fernet().encrypt(content))
        setattr(batch, f"{ext}_path", str(path.relative_to(settings.PRIVATE_MEDIA_ROOT)))
        setattr(batch, f"{ext}_sha256", hashlib.sha256(content).hexdigest())


def _text(ws, value):
    """A string cell that stays text: openpyxl would store "=…" as a formula."""
    from openpyxl.cell import WriteOnlyCell

    if not isinstance(value, str) or not value.startswith("="):
        return value
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"
    return cell


def _xlsx_bytes(items) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("批量代发")
    ws.append(HEADERS)
    for row in _rows(items):
        # Account as text (an 19-digit number would lose digits as a float); amount as a
        # two-decimal number.
        amount = WriteOnlyCell(ws, value=Decimal(row[2]))
        amount.number_format = "0.00"
        ws.append([_text(ws, row[0]), _text(ws, row[1]), amount, _text(ws, row[3]), row[4]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def open_batch_file(batch: PaymentBatch, fmt: str, user, ip=None) -> tuple[bytes, str]:
    """Read a stored batch file for download, log who downloaded it. Never regenerates."""
    from payouts.models import PaymentFileDownload

    if fmt not in ("csv", "xlsx"):
        raise PayoutError("bad_format", "文件格式只能是 csv 或 xlsx", 404)
    rel = getattr(batch, f"{fmt}_path")
    path = settings.PRIVATE_MEDIA_ROOT / rel
    try:
        content = path.read_bytes()
    except OSError:
        raise PayoutError(
            "file_missing", "发放文件不存在，请联系系统管理员（文件不会重新生成）", 410
        )
    if path.name.endswith(ENCRYPTED_SUFFIX):
        try:
            content = fernet().decrypt(content)
        except InvalidToken:
            content = b""  # changed, or another key: refused below like any change
    # (a file written before encryption is read as it is, and checked the same way)
    if hashlib.sha256(content).hexdigest() != getattr(batch, f"{fmt}_sha256"):
        raise PayoutError("file_changed", "发放文件校验失败，文件已被改动，请联系系统管理员", 409)
    PaymentFileDownload.objects.create(batch=batch, file_format=fmt, user=user, ip=ip)
    return content, path.name.removesuffix(ENCRYPTED_SUFFIX)


# --- the bank's result file ----------------------------------------------------------------
@dataclass
class ResultImportOutcome:
    rows: int = 0
    paid: int = 0
    failed: int = 0
    errors: list = field(default_factory=list)  # [{"row": 3, "code": ..., "detail": ...}]

    @property
    def ok(self) -> bool:
        return not self.errors


def _cells(raw, idx):
    def cell(header):
        if header not in idx:
            return ""
        # control characters (a NUL would be refused by PostgreSQL as text) become spaces
        text = normalise_input(str(raw[idx[header]] or ""))
        return "".join(" " if ord(ch) < 32 else ch for ch in text).strip()

    return cell


def _err(errors, row, code, detail):
    errors.append({"row": row, "code": code, "detail": f"第 {row} 行：{detail}"})


def import_result(batch_id: int, dataset, by=None) -> ResultImportOutcome:
    """Apply the bank's result rows to one batch — all of them, or none."""
    headers = [normalise_input(str(h or "")) for h in (dataset.headers or [])]
    missing = [h for h in RESULT_HEADERS[:4] if h not in headers]
    if missing:
        return ResultImportOutcome(
            errors=[
                {"row": 1, "code": "missing_columns", "detail": "缺少列：" + "、".join(missing)}
            ]
        )
    idx = {h: headers.index(h) for h in RESULT_HEADERS if h in headers}
    with transaction.atomic():
        batch = PaymentBatch.objects.select_for_update().select_related("campaign").get(pk=batch_id)
        items = {
            it.account_hmac: it
            for it in batch.items.select_related("application").defer(
                "application__id_number",
                "application__bank_account",
                "application__registry_record",
            )
        }
        ledger_years = dict(
            GrantLedger.objects.filter(
                id_hmac__in=[it.application.id_hmac for it in items.values()]
            ).values_list("id_hmac", "year")
        )
        # The bank answers one row per item: a file far longer is not this batch's (and its
        # per-row checks would hold the batch's lock for minutes).
        most = 2 * len(items) + 100
        if len(dataset) > most:
            return ResultImportOutcome(
                errors=[
                    {
                        "row": 1,
                        "code": "too_many_rows",
                        "detail": f"文件有 {len(dataset)} 行，本批次只有 {len(items)} 条记录，"
                        "请确认是否为本批次的结果文件",
                    }
                ]
            )
        errors, plan, seen = [], [], {}
        for n, raw in enumerate(dataset, 2):  # row 1 is the header
            cell = _cells(raw, idx)
            account = bank.normalise_account(cell("账号"))
            if not account and not any(str(c or "").strip() for c in raw):
                continue  # blank line
            masked = mask_account(account) or "（空）"
            if not (account.isascii() and account.isdigit()):
                _err(errors, n, "bad_account", f"账号 {masked} 格式错误")
                continue
            hmac = blind_index(account, purpose="account")
            if hmac in seen:
                _err(errors, n, "duplicate_row", f"账号 {masked} 与第 {seen[hmac]} 行重复")
                continue
            seen[hmac] = n
            item = items.get(hmac)
            if item is None:
                if Application.objects.filter(bank_account_hmac=hmac).exists():
                    _err(errors, n, "not_in_batch", f"账号 {masked} 不在本发放批次中")
                else:
                    _err(errors, n, "unknown_account", f"账号 {masked} 不是任何申领人的账号")
                continue
            if item.result != PaymentResult.PENDING:
                _err(errors, n, "already_imported", f"账号 {masked} 的结果已导入过")
                continue
            if cell("户名") != item.name:
                _err(errors, n, "wrong_name", f"账号 {masked} 的户名与本批次记录不符")
                continue
            try:
                amount = Decimal(cell("金额").replace(",", ""))
            except InvalidOperation:
                amount = None
            if amount is not None and not amount.is_finite():  # "NaN", "sNaN", "Infinity"
                amount = None
            if amount != item.amount_cny:
                _err(
                    errors,
                    n,
                    "wrong_amount",
                    f"账号 {masked} 的金额 {cell('金额') or '（空）'} 与应发金额 "
                    f"{item.amount_cny:.2f} 不符",
                )
                continue
            outcome = cell("结果")
            reason = scrub(cell("失败原因"))  # the bank's text may quote the account
            if outcome in SUCCESS_WORDS:
                year = ledger_years.get(item.application.id_hmac)
                if year is not None:
                    _err(
                        errors,
                        n,
                        "already_granted",
                        f"该职工已有 {year} 年的补助发放记录，每人只可享受一次",
                    )
                    continue
                plan.append((item, True, ""))
            elif outcome in FAILURE_WORDS:
                if not reason:
                    _err(errors, n, "reason_required", f"账号 {masked} 发放失败，须填写失败原因")
                    continue
                plan.append((item, False, reason[:200]))
            else:
                _err(errors, n, "bad_result", f"结果应为“成功”或“失败”，不是“{outcome}”")
        if errors:
            transaction.set_rollback(True)
            return ResultImportOutcome(rows=len(dataset), errors=errors)
        if not plan:
            return ResultImportOutcome(
                errors=[{"row": 1, "code": "empty_file", "detail": "回盘文件没有数据行"}]
            )
        now = timezone.now()
        paid = failed = 0
        for item, success, reason in plan:
            app = (
                Application.objects.select_for_update()
                .select_related("campaign")
                .get(pk=item.application_id)
            )
            item.result_at = now
            if success:
                app.mark_paid(by=by, reason=f"{batch} 银行回盘成功")
                app.save()
                record_paid_grant(app, item.amount_cny)
                item.result = PaymentResult.SUCCESS
                paid += 1
            else:
                if app.status == S.FUNDED:
                    app.mark_payment_failed(by=by, reason=reason)
                    app.save()
                else:  # failed again after a correction: no new edge, the reason is updated
                    Application.objects.filter(pk=app.pk).update(payment_failure_reason=reason)
                item.result = PaymentResult.FAILURE
                item.failure_reason = reason
                failed += 1
            item.save(update_fields=["result", "failure_reason", "result_at"])
        batch.result_imported_at = now
        batch.result_imported_by = by
        batch.save(update_fields=["result_imported_at", "result_imported_by"])
    return ResultImportOutcome(rows=len(dataset), paid=paid, failed=failed)


# --- account correction --------------------------------------------------------------------
def correct_account(
    application: Application,
    by,
    account: str,
    branch: str,
    reason: str,
    confirm_unknown: bool = False,
):
    """City staff correct the bank account of a failed payment, so a later batch can pay it.
    The new account passes the very rules of the application form and the API
    (`subsidy.services.bank.check_account`: spaces and dashes dropped, full-width digits made
    half-width, 16–19 digits, Luhn, an ICBC debit BIN; a number outside the known BINs only
    when staff confirm it, and the application is then flagged as the form flags it). The
    change is kept (last four digits only) and appended to the audit chain."""
    from reviews.services import audit

    try:
        reason = clean_free_text(normalise_input(reason))
        if not reason:
            raise PayoutError("reason_required", "请填写更正原因")
        branch = clean_free_text(normalise_input(branch), mask_numbers=False)
        refuse_garbled(account or "")
    except ValidationError as exc:
        raise PayoutError(exc.code, exc.messages[0])
    if len(branch) > 100 or len(reason) > 200:
        raise PayoutError("text_too_long", "开户支行不超过 100 字，更正原因不超过 200 字")
    try:
        checked = bank.check_account(account or "", confirm_unknown=confirm_unknown)
    except ValidationError as exc:
        raise PayoutError(exc.code or "bad_account", " ".join(exc.messages))
    account = checked.account
    with transaction.atomic():
        app = Application.objects.select_for_update().get(pk=application.pk)
        if app.status != S.PAYMENT_FAILED:
            raise PayoutError("not_failed", "只有“发放失败”的申领可以更正银行账号", 409)
        old_last4, old_branch = app.bank_account_last4, app.bank_branch
        app.bank_account = account
        app.bin_unknown = checked.bin_unknown
        if branch:
            app.bank_branch = branch
        app.save()
        correction = AccountCorrection.objects.create(
            application=app,
            old_last4=old_last4,
            new_last4=account[-4:],
            old_branch=old_branch,
            new_branch=app.bank_branch,
            reason=reason[:200],
            by=by,
        )
        unknown = "（卡号不在工商银行卡BIN表内，已确认）" if checked.bin_unknown else ""
        audit.append(
            app,
            "correct_account",
            app.status,
            app.status,
            actor=by,
            reason=f"更正银行账号 ****{old_last4} → ****{account[-4:]}{unknown}：{reason}"[:500],
        )
    return correction
