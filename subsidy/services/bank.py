"""The applicant's bank account: ICBC debit cards only (notice 五(三): 开户行仅限本人中国工商银行).

The one home of the rule: every path that takes an account calls `check_account` — the web form
and the API (subsidy.forms.ApplicationForm), city staff's correction after a failed payment
(payouts.services.payment.correct_account) — and the bank's result file is read with the same
`normalise_account`.

The account must be 16–19 digits with a valid Luhn check digit. Its issuer is found by the
longest BIN prefix in `BankBin` whose card length equals the account's length:
ICBC debit → accepted; ICBC credit → refused; another bank → refused; no row → the applicant
must confirm the number, and the application is flagged (`Application.bin_unknown`).
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from stdnum import luhn

from subsidy.models import BankBin
from subsidy.refcache import bin_table
from unions.validators import normalise_input

ICBC = "ICBC"
MAX_BIN_LENGTH = 10


@dataclass(frozen=True)
class AccountCheck:
    account: str
    bin_unknown: bool


def normalise_account(value: str) -> str:
    """Full-width digits become half-width; the spaces and dashes people type between digit
    groups go."""
    return normalise_input(value).replace(" ", "").replace("-", "")


def issuer_of(account: str) -> list[BankBin]:
    """The BIN rows of the longest prefix of `account` that has rows for its length (from the
    per-process copy of the table, `subsidy.refcache`)."""
    table = bin_table.get()
    for n in range(min(MAX_BIN_LENGTH, len(account)), 0, -1):
        rows = table.get((account[:n], len(account)))
        if rows:
            return list(rows)
    return []


def check_account(value: str, confirm_unknown: bool = False) -> AccountCheck:
    """Return the cleaned account, or raise ValidationError with a Chinese message and a code."""
    account = normalise_account(value)
    if not account:
        raise ValidationError("请填写银行账号", code="account_required")
    if not (account.isascii() and account.isdigit()):
        raise ValidationError("银行账号只能包含数字", code="account_format")
    if not 16 <= len(account) <= 19:
        raise ValidationError("银行账号应为 16–19 位数字", code="account_length")
    if not luhn.is_valid(account):
        raise ValidationError("银行账号校验位不正确，请逐位核对卡号", code="account_checksum")
    rows = issuer_of(account)
    if not rows:
        if not confirm_unknown:
            raise ValidationError(
                "该卡号不在已知的工商银行卡号范围内，请核对；确认是本人工商银行借记卡请勾选确认",
                code="bin_unknown",
            )
        return AccountCheck(account, bin_unknown=True)
    icbc = [r for r in rows if r.bank == ICBC]
    if not icbc:
        raise ValidationError("开户行仅限中国工商银行", code="bank_not_icbc")
    if not any(r.card_type == BankBin.CardType.DEBIT for r in icbc):
        raise ValidationError("请填写本人工商银行借记卡", code="bank_credit_card")
    return AccountCheck(account, bin_unknown=False)
