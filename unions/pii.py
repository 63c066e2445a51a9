"""Sensitive personal information (PIPL): encryption at rest, keyed look-up hashes, masking.

ID numbers and bank account numbers are stored encrypted with Fernet; a wrong or missing key
raises instead of handing back ciphertext. Look-ups and uniqueness use a separate keyed HMAC
column (a blind index), so the database never compares plaintext.
"""

import hashlib
import hmac
import logging
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class DecryptionError(Exception):
    """Stored ciphertext could not be decrypted with the configured keys."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("PII_FERNET_KEYS is empty")
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.PII_FERNET_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError(
            "encrypted field cannot be decrypted with the configured keys"
        ) from exc


def blind_index(value: str, purpose: str = "id") -> str:
    """Keyed HMAC-SHA256 of a normalised value; the same input always gives the same index."""
    key = f"{settings.PII_HMAC_KEY}:{purpose}".encode()
    return hmac.new(key, value.strip().upper().encode(), hashlib.sha256).hexdigest()


class EncryptedCharField(models.TextField):
    """A text column holding Fernet ciphertext; Python sees the plaintext."""

    description = "Fernet-encrypted text"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def get_lookup(self, lookup_name):
        # Ciphertext is randomised: equality on it can never match. Query the blind index.
        if lookup_name not in ("isnull",):
            raise TypeError(f"EncryptedCharField does not support '{lookup_name}' look-ups")
        return super().get_lookup(lookup_name)


def mask_id_number(value: str | None) -> str:
    """440106********1234 — region code and the last four stay visible."""
    if not value:
        return ""
    if len(value) <= 10:
        return value[:2] + "*" * max(len(value) - 2, 0)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_account(value: str | None) -> str:
    """****1234"""
    if not value:
        return ""
    return "****" + value[-4:]


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    if len(value) < 7:
        return value[:1] + "*" * (len(value) - 1)
    return value[:3] + "****" + value[-4:]


def mask_name(value: str | None) -> str:
    """张*明 for three characters or more, 张* for two; compound surnames keep two characters."""
    if not value:
        return ""
    value = value.strip()
    n = len(value)
    if n == 1:
        return value
    if n == 2:
        return value[0] + "*"
    surname_len = 2 if n >= 4 and value[:2] in COMPOUND_SURNAMES else 1
    return value[:surname_len] + "*" * (n - surname_len - 1) + value[-1]


COMPOUND_SURNAMES = frozenset(
    "欧阳 太史 端木 上官 司马 东方 独孤 南宫 万俟 闻人 夏侯 诸葛 尉迟 公羊 赫连 澹台 皇甫 "
    "宗政 濮阳 公冶 太叔 申屠 公孙 慕容 仲孙 钟离 长孙 宇文 司徒 鲜于 司空 闾丘 子车 亓官 "
    "司寇 巫马 公西 颛孙 壤驷 公良 漆雕 乐正 宰父 谷梁 拓跋 夹谷 轩辕 令狐 段干 百里 呼延 "
    "东郭 南门 羊舌 微生 公户 公玉 公仪 梁丘 公仲 公上 公门 公山 公坚 左丘 公伯 西门 公祖 "
    "第五 公乘 贯丘 公皙 南荣 东里 东宫 仲长 子书 子桑 即墨 达奚 褚师 吴铭".split()
)

# 18-character ID numbers and 16–19 digit card numbers, where they appear in free text or
# log text — also as people type them: in groups ("440104 19930423 082X", "6222 0210 …",
# "4401041993-04-23-082X") and in full-width digits (a Chinese keyboard's "４４０１…").
# A separator is allowed only where people put one: after the region code and within the
# birth date (6-4-2-2-4), between a card number's groups of four.
_SEP = r"[ \t\u3000\-－—]?"
_ID_RE = re.compile(
    rf"(?<![0-9])[1-9][0-9]{{5}}{_SEP}[0-9]{{4}}{_SEP}[0-9]{{2}}{_SEP}[0-9]{{2}}{_SEP}"
    r"[0-9]{3}[0-9Xx](?![0-9])"
)
_ACCOUNT_RE = re.compile(
    rf"(?<![0-9])[0-9]{{4}}(?:{_SEP}[0-9]{{4}}){{3}}(?:{_SEP}[0-9]{{1,3}})?(?![0-9])"
)
_HALF_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())


def scrub(text: str) -> str:
    text = text.translate(_HALF_WIDTH)
    text = _ID_RE.sub(lambda m: (d := _digits(m[0]))[:6] + "********" + d[-4:], text)
    return _ACCOUNT_RE.sub(lambda m: "****" + _digits(m[0])[-4:], text)


class MaskPIILogFilter(logging.Filter):
    """Masks ID and card numbers in every log record before any handler writes it: the message,
    the exception's traceback and the stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        self._scrub_message(record)
        # An exception's text (`ValueError: 440106…`, a failed query's parameters) would be
        # formatted by each handler from exc_info. Format and scrub it once here: Formatter
        # prints record.exc_text when it is set. exc_info stays, so handlers still know there
        # was an exception.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True

    @staticmethod
    def _scrub_message(record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string is the logger's problem, not ours
            return
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
