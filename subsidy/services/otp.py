"""Sign-in by mobile number and a one-time code (applicants and grassroots reviewers).

Codes are 6 digits, single use, valid for OTP_TTL_SECONDS (≤ 5 minutes), stored only as a
keyed hash. Requests are rate-limited per phone and per IP in the cache (Redis in
production), and every refusal says how long to wait.
"""

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

import testhooks
from sms.sending import SMSError, send
from subsidy import codes
from subsidy.models import OneTimeCode
from unions.models import Member, ReviewerProfile
from unions.validators import clean_mobile

log = logging.getLogger(__name__)

OTP_TTL_SECONDS = 300
MAX_VERIFY_ATTEMPTS = 5
PHONE_INTERVAL_SECONDS = 60
PHONE_DAILY_LIMIT = 10
IP_HOURLY_LIMIT = 30
SMS_RETRY_AFTER = 10  # seconds, when the SMS channel failed
BUSY_RETRY_AFTER = 5  # seconds, when the rate limiter's cache is unavailable


@dataclass
class OtpError(Exception):
    code: str
    detail: str = ""
    retry_after: int | None = None

    def __post_init__(self):
        self.detail = self.detail or codes.text(self.code)

    def __str__(self):
        return self.detail


def _hash(phone: str, code: str) -> str:
    key = f"{settings.SECRET_KEY}:otp".encode()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _limit(key: str, limit: int, window: int) -> int | None:
    """Count one event in a fixed window; return seconds to wait when over the limit.
    Without the cache (Redis down) nothing can be counted, so nothing is sent: the caller is
    told the system is busy (fail closed), never a 500."""
    try:
        return _count(key, limit, window)
    except Exception:
        log.warning("OTP rate limiter unavailable (cache error)", exc_info=True)
        raise OtpError(code="busy", detail="系统繁忙，请稍后重试", retry_after=BUSY_RETRY_AFTER)


def _count(key: str, limit: int, window: int) -> int | None:
    added = cache.add(key, 1, timeout=window)
    if added:
        cache.set(f"{key}:t", timezone.now().timestamp() + window, timeout=window)
        return None
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)
        return None
    if count > limit:
        until = cache.get(f"{key}:t") or (timezone.now().timestamp() + window)
        return max(1, int(until - timezone.now().timestamp()))
    return None


def normalise_phone(phone: str) -> str:
    try:
        return clean_mobile(phone)
    except ValidationError as exc:
        raise OtpError(code="invalid_mobile", detail=exc.messages[0]) from exc


def request_code(phone: str, ip: str | None = None) -> int:
    """Send a code to `phone`; return its validity in seconds. Raises OtpError."""
    phone = normalise_phone(phone)
    wait = _limit(f"otp:phone:{phone}:1m", 1, PHONE_INTERVAL_SECONDS)
    if wait is None:
        wait = _limit(f"otp:phone:{phone}:1d", PHONE_DAILY_LIMIT, 86400)
    if wait is None and ip:
        wait = _limit(f"otp:ip:{ip}:1h", IP_HOURLY_LIMIT, 3600)
    if wait is not None:
        raise OtpError(
            code="rate_limited", detail=f"操作过于频繁，请 {wait} 秒后再试", retry_after=wait
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    now = timezone.now()
    with transaction.atomic():
        # A new code replaces any earlier unused one.
        OneTimeCode.objects.filter(phone=phone, used_at__isnull=True).update(used_at=now)
        OneTimeCode.objects.create(
            phone=phone,
            code_hash=_hash(phone, code),
            expires_at=now + timedelta(seconds=OTP_TTL_SECONDS),
        )
    try:
        send(phone, "login_code", code=code)  # its text states OTP_TTL_SECONDS: 5 minutes
    except SMSError:
        # Nobody received this code: retire it, and give back the per-minute slot so the
        # applicant may ask again at once (the daily and per-IP counts keep it).
        OneTimeCode.objects.filter(phone=phone, used_at__isnull=True).update(used_at=now)
        cache.delete(f"otp:phone:{phone}:1m")
        raise OtpError(
            code="sms_failed",
            detail="验证码短信发送失败，请稍后重试",
            retry_after=SMS_RETRY_AFTER,
        )
    return OTP_TTL_SECONDS


def verify_code(phone: str, code: str):
    """Check the code and return the user for this phone (created on first sign-in)."""
    phone = normalise_phone(phone)
    code = (code or "").strip()
    now = timezone.now()
    otp = (
        OneTimeCode.objects.filter(phone=phone, used_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    if otp is None:
        raise OtpError(code="otp_invalid", detail="验证码错误或已使用，请重新获取")
    if otp.expires_at <= now:
        raise OtpError(code="otp_expired", detail="验证码已过期，请重新获取")
    # Each guess claims one of the code's attempts before it is compared, in one UPDATE: of
    # any number of parallel guesses only MAX_VERIFY_ATTEMPTS are ever compared (a read of
    # `attempts` followed by a write let 62 of 150 parallel guesses through).
    if testhooks.on("otp_attempt_locking"):
        claimed = OneTimeCode.objects.filter(
            pk=otp.pk, used_at__isnull=True, attempts__lt=MAX_VERIFY_ATTEMPTS
        ).update(attempts=F("attempts") + 1)
    else:
        claimed = _claim_attempt_unlocked(otp)
    if not claimed:
        if (
            otp.attempts >= MAX_VERIFY_ATTEMPTS
            or OneTimeCode.objects.filter(pk=otp.pk, used_at__isnull=True).exists()
        ):
            raise OtpError(code="otp_too_many_attempts", detail="验证码错误次数过多，请重新获取")
        raise OtpError(code="otp_invalid", detail="验证码错误或已使用，请重新获取")
    if not hmac.compare_digest(otp.code_hash, _hash(phone, code)):
        raise OtpError(code="otp_invalid", detail="验证码错误，请核对后重新输入")
    # Single use, even under a double click: only one UPDATE can flip used_at.
    if not OneTimeCode.objects.filter(pk=otp.pk, used_at__isnull=True).update(used_at=now):
        raise OtpError(code="otp_invalid", detail="验证码错误或已使用，请重新获取")
    return user_for_phone(phone)


def _claim_attempt_unlocked(otp) -> int:
    """Control tests only (test hook `otp_attempt_locking` off): the read-check-write the
    atomic UPDATE replaced, so the control test can show parallel guesses getting past the
    limit; the hook `otp_race_delay` widens the gap between the read and the write."""
    if otp.attempts >= MAX_VERIFY_ATTEMPTS:
        return 0
    testhooks.pause("otp_race_delay")
    return OneTimeCode.objects.filter(pk=otp.pk).update(attempts=otp.attempts + 1)


def user_for_phone(phone: str):
    """A grassroots reviewer's account, else the member's, else a new applicant account."""
    reviewer = (
        ReviewerProfile.objects.select_related("user").filter(phone=phone, active=True).first()
    )
    if reviewer is not None:
        return reviewer.user
    User = get_user_model()
    member = Member.objects.select_related("user").filter(mobile=phone).first()
    if member is not None and member.user_id:
        return member.user
    try:
        with transaction.atomic():
            user, _ = User.objects.get_or_create(username=phone)
    except IntegrityError:
        user = User.objects.get(username=phone)
    if member is not None and member.user_id is None:
        Member.objects.filter(pk=member.pk, user__isnull=True).update(user=user)
    return user
