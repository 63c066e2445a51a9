"""The bank account rules: 16–19 digits, Luhn, and the BIN table's four answers."""

import pytest
from django.core.exceptions import ValidationError

from subsidy.services.bank import check_account
from tests.subsidy.conftest import CCB_DEBIT, ICBC_CREDIT, ICBC_DEBIT, UNKNOWN, card


def code_of(value, **kw):
    with pytest.raises(ValidationError) as exc:
        check_account(value, **kw)
    return exc.value.code


@pytest.mark.django_db
def test_icbc_debit_card_is_accepted_with_spaces_and_full_width_digits(bins):
    spaced = " ".join(ICBC_DEBIT[i : i + 4] for i in range(0, 19, 4))
    assert check_account(spaced).account == ICBC_DEBIT
    full_width = ICBC_DEBIT.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    result = check_account(full_width)
    assert result.account == ICBC_DEBIT and result.bin_unknown is False


@pytest.mark.django_db
def test_longest_prefix_wins_over_a_shorter_foreign_prefix(bins):
    # "6222" belongs to another bank in the fixture; "622202" (ICBC debit) is longer.
    assert check_account(ICBC_DEBIT).bin_unknown is False
    assert code_of(card("622299")) == "bank_not_icbc"  # only the 4-digit foreign row matches


@pytest.mark.django_db
def test_icbc_credit_card_is_refused(bins):
    with pytest.raises(ValidationError) as exc:
        check_account(ICBC_CREDIT)
    assert exc.value.code == "bank_credit_card"
    assert exc.value.messages == ["请填写本人工商银行借记卡"]


@pytest.mark.django_db
def test_another_banks_card_is_refused(bins):
    with pytest.raises(ValidationError) as exc:
        check_account(CCB_DEBIT)
    assert exc.value.code == "bank_not_icbc"
    assert exc.value.messages == ["开户行仅限中国工商银行"]


@pytest.mark.django_db
def test_unknown_bin_needs_confirmation_then_is_flagged(bins):
    assert code_of(UNKNOWN) == "bin_unknown"
    result = check_account(UNKNOWN, confirm_unknown=True)
    assert result.bin_unknown is True


@pytest.mark.django_db
def test_bin_match_respects_card_length(bins):
    # 622202 is an ICBC prefix for 19-digit cards only: a 16-digit number is unknown.
    assert code_of(card("622202", 16)) == "bin_unknown"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value,code",
    [
        ("", "account_required"),
        ("6222abc0011152272", "account_format"),
        ("622202100111522", "account_length"),
        ("62220210011152272811", "account_length"),
        (ICBC_DEBIT[:-1] + str((int(ICBC_DEBIT[-1]) + 1) % 10), "account_checksum"),
    ],
)
def test_malformed_accounts_are_refused(bins, value, code):
    assert code_of(value) == code


@pytest.mark.django_db
def test_staff_edits_to_the_bin_table_take_effect(bins):
    from subsidy.models import BankBin

    assert code_of(UNKNOWN) == "bin_unknown"
    BankBin.objects.create(bin="999999", bank="ICBC", card_type="DC", length=19)
    assert check_account(UNKNOWN).bin_unknown is False


@pytest.mark.django_db
def test_shipped_table_is_loaded_by_the_migration():
    """The data migration ships hexindai/bcbc's 1,709 rows (non-transactional tests only)."""
    from subsidy.models import BankBin

    assert BankBin.objects.filter(bank="ICBC", card_type="DC").count() == 48
    assert BankBin.objects.get(bin="622202", length=19).bank_name == "中国工商银行"
