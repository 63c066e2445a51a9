"""Validation of identity data: resident ID numbers (GB 11643) and mainland mobile numbers.

Every error names the field in Chinese and carries a machine code.
"""

import functools
import re
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError
from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import ric


def normalise_input(value: str) -> str:
    """Full-width digits and letters become half-width; surrounding spaces go."""
    return unicodedata.normalize("NFKC", value or "").strip()


GARBLED = "含有无法识别的字符，请删除后重新输入"


def refuse_garbled(value: str) -> None:
    """Text that was not valid UTF-8 (decoded with U+FFFD in place of its bytes: a GBK page,
    a broken client) or holds NUL would be stored as garbage: refused with its own message."""
    if "\ufffd" in value or "\x00" in value:
        raise ValidationError(GARBLED, code="text_garbled")


def clean_free_text(value: str | None, *, mask_numbers: bool = True) -> str:
    """The one cleaner of the free text people type (a refusal or revocation reason, a
    correction's reason and branch, the form's text fields): surrounding spaces go; garbled
    text or a NUL is refused (ValidationError `text_garbled`); an ID or card number typed into
    it is masked (`unions.pii.scrub`, SPEC §12: the text is stored, exported, logged and sent)
    unless `mask_numbers=False`. Whether it is required and how long it may be is the
    field's own rule, said in its own words."""
    from unions.pii import scrub

    text = (value or "").strip()
    refuse_garbled(text)
    return scrub(text) if mask_numbers else text


def clean_id_number(value: str) -> str:
    """Return the canonical 18-character ID number or raise a Chinese ValidationError."""
    raw = normalise_input(value).replace(" ", "").upper()
    if not raw:
        raise ValidationError("请填写身份证号码", code="id_required")
    if len(raw) != 18:
        raise ValidationError("身份证号码应为 18 位", code="id_length")
    if not raw.isascii() or not raw[:17].isdigit() or not (raw[17].isdigit() or raw[17] == "X"):
        raise ValidationError("身份证号码只能包含数字（最后一位可为 X）", code="id_format")
    try:
        ric.get_birth_date(raw)
    except stdnum_exceptions.ValidationError:
        raise ValidationError("身份证号码中的出生日期无效", code="id_birth_date")
    try:
        ric.get_birth_place(raw)
    except stdnum_exceptions.ValidationError:
        raise ValidationError("身份证号码前 6 位的出生地代码不存在", code="id_birthplace")
    try:
        return ric.validate(raw)
    except stdnum_exceptions.InvalidChecksum:
        raise ValidationError("身份证号码校验位错误，请核对", code="id_checksum")
    except stdnum_exceptions.ValidationError:
        raise ValidationError("身份证号码格式错误", code="id_format")


def clean_mobile(value: str) -> str:
    """Return an 11-digit mainland mobile number or raise; landlines are refused."""
    raw = normalise_input(value).replace(" ", "").replace("-", "")
    if not raw:
        raise ValidationError("请填写手机号码", code="mobile_required")
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        raise ValidationError("手机号码格式错误", code="mobile_format")
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        raise ValidationError("手机号码无效，请填写 11 位中国大陆手机号", code="mobile_invalid")
    if phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE:
        raise ValidationError("请填写手机号码，而不是固定电话", code="mobile_is_landline")
    return str(number.national_number)


@functools.lru_cache(maxsize=4096)
def clean_contact_phone(value: str) -> str:
    """A mainland mobile, or a Guangzhou (020) landline.

    Kept per process for the last 4096 inputs (a refusal is not kept: it raises): the
    members of one union give its one contact phone, and phonenumbers' parse costs ~0.3 ms of
    the opening rush's CPU per submission."""
    raw = normalise_input(value).replace(" ", "").replace("-", "")
    if not raw:
        raise ValidationError("请填写联系电话", code="phone_required")
    candidates = [raw]
    if len(raw) == 8 and raw.isascii() and raw.isdigit():
        candidates.append("020" + raw)  # a local Guangzhou number written without its area code
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, "CN")
        except phonenumbers.NumberParseException:
            continue
        if number.country_code != 86 or not phonenumbers.is_valid_number(number):
            continue
        kind = phonenumbers.number_type(number)
        national = str(number.national_number)
        if kind == phonenumbers.PhoneNumberType.MOBILE:
            return national
        if (
            national.startswith("20")
            and kind
            in (
                phonenumbers.PhoneNumberType.FIXED_LINE,
                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
            )
            # a subscriber line: 8 digits, not starting 0 or 1 (phonenumbers also passes
            # 020-12345, the city's service hotline, and unallocated 020-1xxxxxxx)
            and re.fullmatch(r"[2-9]\d{7}", national[2:])
        ):
            return "020-" + national[2:]
    raise ValidationError("联系电话应为手机号码或广州固定电话（020）", code="phone_invalid")
