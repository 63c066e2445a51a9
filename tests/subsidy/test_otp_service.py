"""The one-time code service: expiry, reuse, wrong code, rate limit, who signs in."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from sms.backends import LocmemBackend
from subsidy.models import OneTimeCode
from subsidy.services import otp
from tests.factories import MemberFactory, ReviewerFactory


def _last_code():
    return re.search(r"\d{6}", LocmemBackend.outbox[-1][1]).group(0)


@pytest.mark.django_db
def test_code_signs_in_the_member_once(tree):
    member = MemberFactory(union=tree.a1, user=None, mobile="13912345678")
    otp.request_code("13912345678", ip="1.2.3.4")
    code = _last_code()
    assert OneTimeCode.objects.get().code_hash != code  # stored hashed
    user = otp.verify_code("139 1234 5678", code)
    member.refresh_from_db()
    assert member.user == user
    with pytest.raises(otp.OtpError) as exc:
        otp.verify_code("13912345678", code)
    assert exc.value.code == "otp_invalid"


@pytest.mark.django_db
def test_expired_code_is_refused(db):
    otp.request_code("13912345679")
    code = _last_code()
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(otp.OtpError) as exc:
        otp.verify_code("13912345679", code)
    assert exc.value.code == "otp_expired"


@pytest.mark.django_db
def test_wrong_code_counts_attempts_then_locks(db):
    otp.request_code("13912345670")
    code = _last_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(otp.MAX_VERIFY_ATTEMPTS):
        with pytest.raises(otp.OtpError) as exc:
            otp.verify_code("13912345670", wrong)
        assert exc.value.code == "otp_invalid"
    with pytest.raises(otp.OtpError) as exc:
        otp.verify_code("13912345670", code)
    assert exc.value.code == "otp_too_many_attempts"


@pytest.mark.django_db
def test_second_request_within_a_minute_says_how_long_to_wait(db):
    otp.request_code("13912345671")
    with pytest.raises(otp.OtpError) as exc:
        otp.request_code("13912345671")
    assert exc.value.code == "rate_limited"
    assert 0 < exc.value.retry_after <= 60
    assert f"{exc.value.retry_after} 秒" in exc.value.detail


@pytest.mark.django_db
def test_ip_limit_applies_across_phones(db):
    for i in range(otp.IP_HOURLY_LIMIT):
        otp.request_code(f"1370000{i:04d}", ip="9.9.9.9")
    with pytest.raises(otp.OtpError) as exc:
        otp.request_code("13799999999", ip="9.9.9.9")
    assert exc.value.code == "rate_limited"


@pytest.mark.django_db
def test_landline_is_refused_with_a_chinese_message(db):
    with pytest.raises(otp.OtpError) as exc:
        otp.request_code("02083000000")
    assert exc.value.code == "invalid_mobile"
    assert "手机" in exc.value.detail


@pytest.mark.django_db
def test_grassroots_reviewer_phone_signs_in_as_the_reviewer(tree):
    reviewer = ReviewerFactory(unions=[tree.a1], phone="13800000009")
    otp.request_code("13800000009")
    assert otp.verify_code("13800000009", _last_code()) == reviewer.user


class _DownBackend:
    def send(self, message):
        from sms.backends import SMSError

        raise SMSError("gateway timeout")


@pytest.mark.django_db
def test_a_failed_sms_is_a_503_the_code_is_retired_and_the_applicant_may_ask_again(
    client, settings
):
    """The SMS gateway is down: the applicant is told so (503, Retry-After), never a 500; the
    code nobody received cannot be used, and the per-minute limit is not spent on it."""
    settings.SMS_BACKEND = f"{__name__}._DownBackend"
    r = client.post("/api/v1/auth/otp/", {"phone": "13912345677"}, content_type="application/json")
    assert r.status_code == 503 and r["Retry-After"] == str(otp.SMS_RETRY_AFTER)
    assert r.json() == {"code": "sms_failed", "detail": "验证码短信发送失败，请稍后重试"}
    assert not OneTimeCode.objects.filter(phone="13912345677", used_at__isnull=True).exists()
    settings.SMS_BACKEND = "locmem"
    r = client.post("/api/v1/auth/otp/", {"phone": "13912345677"}, content_type="application/json")
    assert r.status_code == 200
    settings.SMS_BACKEND = f"{__name__}._DownBackend"
    page = client.post("/login/", {"phone": "13912345676", "action": "send"})
    assert page.status_code == 503 and "验证码短信发送失败" in page.content.decode()
