"""City staff's correction of a failed payment's account follows the applicant's own bank
rule — one function, `subsidy.services.bank.check_account`: normalised spaces, dashes and
full-width digits, 16–19 digits, Luhn, an ICBC debit card (not another bank's, not a credit
card) and, for a number outside the known BIN ranges, a confirmation that flags the
application. Before, the correction path had its own Luhn and no BIN check at all."""

import pytest
from django.core.exceptions import ValidationError
from stdnum import luhn

from payouts.models import AccountCorrection
from payouts.services import payment
from payouts.services.errors import PayoutError
from subsidy.models import Application, ApplicationStatus
from subsidy.services import bank
from tests.payouts.conftest import make_app

pytestmark = pytest.mark.django_db


def card(prefix: str, length: int, n: int = 1) -> str:
    body = prefix + str(n).rjust(length - len(prefix) - 1, "0")
    return body + luhn.calc_check_digit(body)


ICBC_DEBIT = card("622202", 19, 7)
ICBC_CREDIT = card("427020", 16, 7)  # 427020,ICBC,CC,16
OTHER_BANK = card("436742", 19, 7)  # 436742,CCB,DC,19
UNKNOWN_BIN = card("999999", 19, 7)
WRONG_CHECK_DIGIT = ICBC_DEBIT[:-1] + str((int(ICBC_DEBIT[-1]) + 1) % 10)
FULL_WIDTH_GROUPED = "-".join(ICBC_DEBIT[i : i + 4] for i in range(0, 19, 4)).translate(
    {ord(d): ord(d) - ord("0") + 0xFF10 for d in "0123456789"}
)

CASES = [
    ("", "account_required"),
    ("6222 02ab", "account_format"),
    ("622202123", "account_length"),
    (WRONG_CHECK_DIGIT, "account_checksum"),
    (OTHER_BANK, "bank_not_icbc"),
    (ICBC_CREDIT, "bank_credit_card"),
    (UNKNOWN_BIN, "bin_unknown"),
    (ICBC_DEBIT, None),
    (f" {ICBC_DEBIT[:6]} {ICBC_DEBIT[6:]} ", None),
    (FULL_WIDTH_GROUPED, None),
]


@pytest.fixture
def failed(campaign, tree):
    return make_app(campaign, tree.a1, 1, status=ApplicationStatus.PAYMENT_FAILED)


def _rule_code(value):
    try:
        bank.check_account(value)
    except ValidationError as exc:
        return exc.code
    return None


@pytest.mark.parametrize("value,code", CASES)
def test_the_correction_answers_what_the_applicants_rule_answers(failed, city_user, value, code):
    assert _rule_code(value) == code  # the applicant's form and API call this rule
    before = Application.objects.get(pk=failed.pk).bank_account
    if code is None:
        payment.correct_account(failed, city_user, value, "", "本人提供新卡")
        app = Application.objects.get(pk=failed.pk)
        assert app.bank_account == ICBC_DEBIT and not app.bin_unknown
        return
    with pytest.raises(PayoutError) as exc:
        payment.correct_account(failed, city_user, value, "", "本人提供新卡")
    assert exc.value.code == code
    assert Application.objects.get(pk=failed.pk).bank_account == before  # nothing changed
    assert not AccountCorrection.objects.exists()


def test_an_unknown_bin_is_taken_once_confirmed_and_flags_the_application(failed, city_user):
    payment.correct_account(
        failed, city_user, UNKNOWN_BIN, "", "本人提供新卡", confirm_unknown=True
    )
    app = Application.objects.get(pk=failed.pk)
    assert (app.bank_account, app.bin_unknown) == (UNKNOWN_BIN, True)
    # a later correction to a known ICBC debit card clears the flag
    Application.objects.filter(pk=failed.pk).update(status=ApplicationStatus.PAYMENT_FAILED)
    payment.correct_account(app, city_user, ICBC_DEBIT, "", "又换回工行卡")
    app.refresh_from_db()
    assert (app.bank_account, app.bin_unknown) == (ICBC_DEBIT, False)


def test_the_correction_page_refuses_another_banks_card_in_chinese(failed, city_client):
    response = city_client.post(
        f"/payouts/applications/{failed.pk}/account/",
        {"account": OTHER_BANK, "reason": "本人提供新卡"},
        follow=True,
    )
    assert "开户行仅限中国工商银行" in response.content.decode()
    assert Application.objects.get(pk=failed.pk).bank_account != OTHER_BANK


def test_the_correction_page_takes_an_unknown_bin_with_the_confirmation(failed, city_client):
    page = city_client.get(f"/payouts/?campaign={failed.campaign_id}").content.decode()
    assert 'name="confirm_unknown_bin"' in page
    response = city_client.post(
        f"/payouts/applications/{failed.pk}/account/",
        {"account": UNKNOWN_BIN, "reason": "本人提供新卡", "confirm_unknown_bin": "on"},
        follow=True,
    )
    assert "已更正银行账号" in response.content.decode()
    app = Application.objects.get(pk=failed.pk)
    assert (app.bank_account, app.bin_unknown) == (UNKNOWN_BIN, True)


def test_no_other_luhn_is_written_by_hand():
    """The rule has one home: no module but subsidy/services/bank.py checks a card number."""
    import re
    from pathlib import Path

    check = re.compile(r"def \w*luhn|import luhn|luhn\.(is_valid|validate)|% 10 == 0", re.I)
    root = Path(__file__).resolve().parents[2]
    for app in ("subsidy", "payouts", "reviews", "unions", "notifications", "registry"):
        for path in (root / app).rglob("*.py"):
            if "migrations" in path.parts or path.name == "bank.py":
                continue
            assert not check.search(path.read_text(encoding="utf-8")), path
