"""ID numbers (GB 11643) and mainland mobiles: every bad input is a Chinese error with a code."""

import pytest
from django.core.exceptions import ValidationError

from tests.factories import make_id_number
from unions.validators import clean_contact_phone, clean_id_number, clean_mobile

GOOD_ID = make_id_number(42)  # 440106 199503 07 042 + check digit


def _code(func, value):
    with pytest.raises(ValidationError) as exc:
        func(value)
    message = exc.value.messages[0]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message
    return exc.value.code


def test_a_valid_id_number_is_returned_canonical():
    assert clean_id_number(GOOD_ID) == GOOD_ID
    assert clean_id_number(GOOD_ID[:-1] + GOOD_ID[-1].lower()) == GOOD_ID


def test_bad_checksum_is_refused():
    wrong = GOOD_ID[:-1] + ("0" if GOOD_ID[-1] != "0" else "1")
    assert _code(clean_id_number, wrong) == "id_checksum"


def test_unknown_birthplace_code_is_refused():
    from stdnum.cn import ric

    body = "99999919950307001"
    assert _code(clean_id_number, body + ric.calc_check_digit(body + "0")) == "id_birthplace"


def test_impossible_birth_date_is_refused():
    from stdnum.cn import ric

    body = "44010619951307001"
    assert _code(clean_id_number, body + ric.calc_check_digit(body + "0")) == "id_birth_date"


def test_wrong_length_and_letters_are_refused():
    assert _code(clean_id_number, GOOD_ID[:-1]) == "id_length"
    assert _code(clean_id_number, "A" + GOOD_ID[1:]) == "id_format"
    assert _code(clean_id_number, "") == "id_required"


def test_full_width_digits_and_spaces_are_normalised_not_stored():
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in GOOD_ID)
    assert clean_id_number(full_width) == GOOD_ID
    spaced = f" {GOOD_ID[:6]} {GOOD_ID[6:14]} {GOOD_ID[14:]}\u3000"
    assert clean_id_number(spaced) == GOOD_ID


def test_full_width_digits_with_a_bad_checksum_are_still_refused():
    wrong = GOOD_ID[:-1] + ("0" if GOOD_ID[-1] != "0" else "1")
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in wrong)
    assert _code(clean_id_number, full_width) == "id_checksum"


def test_mobile_accepts_mainland_mobiles_in_common_spellings():
    assert clean_mobile("13900000001") == "13900000001"
    assert clean_mobile("+86 139 0000 0001") == "13900000001"
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in "13900000001")
    assert clean_mobile(full_width) == "13900000001"


def test_landline_given_as_mobile_is_refused():
    assert _code(clean_mobile, "020-83001234") == "mobile_is_landline"
    assert _code(clean_mobile, "83001234") in {"mobile_invalid", "mobile_is_landline"}


def test_malformed_mobile_is_refused():
    assert _code(clean_mobile, "1390000") == "mobile_invalid"
    assert _code(clean_mobile, "abc") == "mobile_format"
    assert _code(clean_mobile, "") == "mobile_required"


def test_contact_phone_accepts_a_guangzhou_landline_or_a_mobile():
    assert clean_contact_phone("83001234") == "020-83001234"
    assert clean_contact_phone("020-83001234") == "020-83001234"
    assert clean_contact_phone("13900000001") == "13900000001"
    assert _code(clean_contact_phone, "0755-83001234") == "phone_invalid"


def test_a_contact_phone_is_parsed_once_and_a_refusal_every_time():
    from unittest import mock

    from unions import validators

    validators.clean_contact_phone.cache_clear()
    with mock.patch.object(
        validators.phonenumbers, "parse", wraps=validators.phonenumbers.parse
    ) as parse:
        assert validators.clean_contact_phone("020-8300 1234") == "020-83001234"
        assert validators.clean_contact_phone("020-8300 1234") == "020-83001234"
        assert parse.call_count == 1
        for _ in range(2):
            with pytest.raises(ValidationError) as exc:
                validators.clean_contact_phone("12345")
            assert exc.value.code == "phone_invalid"
        assert parse.call_count == 3  # refusals are not kept
