"""Sign-in pages and the token API: expiry, reuse, wrong code, rate limit (429 + Retry-After),
where each kind of user lands, and logout by POST only."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from sms.backends import LocmemBackend
from subsidy.models import OneTimeCode
from tests.factories import MemberFactory, ReviewerFactory


def last_code():
    return re.search(r"\d{6}", LocmemBackend.outbox[-1][1]).group(0)


@pytest.fixture
def person(tree):
    return MemberFactory(union=tree.a1, mobile="13912340001")


# --- pages ----------------------------------------------------------------------------
@pytest.mark.django_db
def test_member_signs_in_with_a_code_and_lands_on_apply(client, person, campaign):
    r = client.post("/login/", {"phone": "13912340001", "action": "send"})
    assert r.status_code == 200 and "验证码已发送至 139****0001" in r.content.decode()
    r = client.post("/login/", {"phone": "13912340001", "code": last_code(), "action": "verify"})
    assert r.status_code == 302 and r["Location"] == "/apply/"
    assert client.get("/apply/").status_code == 200


@pytest.mark.django_db
def test_reviewer_phone_lands_on_the_review_dashboard(client, tree, campaign):
    ReviewerFactory(phone="13800000001", unions=[tree.a1])
    client.post("/login/", {"phone": "13800000001", "action": "send"})
    r = client.post("/login/", {"phone": "13800000001", "code": last_code(), "action": "verify"})
    assert r["Location"] == "/review/"


@pytest.mark.django_db
def test_wrong_code_on_the_page(client, person, campaign):
    client.post("/login/", {"phone": "13912340001", "action": "send"})
    wrong = "000000" if last_code() != "000000" else "111111"
    r = client.post("/login/", {"phone": "13912340001", "code": wrong, "action": "verify"})
    assert r.status_code == 400 and "验证码错误" in r.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_expired_code_on_the_page(client, person, campaign):
    client.post("/login/", {"phone": "13912340001", "action": "send"})
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    r = client.post("/login/", {"phone": "13912340001", "code": last_code(), "action": "verify"})
    assert r.status_code == 400 and "验证码已过期" in r.content.decode()


@pytest.mark.django_db
def test_rate_limit_on_the_page_says_how_long_to_wait(client, person, campaign):
    client.post("/login/", {"phone": "13912340001", "action": "send"})
    r = client.post("/login/", {"phone": "13912340001", "action": "send"})
    assert r.status_code == 429
    wait = int(r["Retry-After"])
    assert 0 < wait <= 60 and f"请 {wait} 秒后再试" in r.content.decode()


@pytest.mark.django_db
def test_pages_need_sign_in(client, campaign):
    for url in ("/apply/", "/apply/form/", "/apply/progress/"):
        r = client.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/login/?next=")


@pytest.mark.django_db
def test_logout_is_post_only(client, person, campaign):
    client.force_login(person.user)
    assert client.get("/logout/").status_code == 405
    r = client.post("/logout/")
    assert r.status_code == 302 and "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_next_may_not_leave_the_site(client, person, campaign):
    client.post("/login/", {"phone": "13912340001", "action": "send"})
    r = client.post(
        "/login/",
        {
            "phone": "13912340001",
            "code": last_code(),
            "action": "verify",
            "next": "//evil.example/",
        },
    )
    assert r["Location"] == "/apply/"


# --- API ------------------------------------------------------------------------------
@pytest.mark.django_db
def test_api_code_then_token(client, person):
    r = client.post("/api/v1/auth/otp/", {"phone": "13912340001"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["expires_in"] == 300
    r = client.post(
        "/api/v1/auth/token/",
        {"phone": "13912340001", "code": last_code()},
        content_type="application/json",
    )
    assert r.status_code == 200
    assert r.json()["token"] == Token.objects.get(user=person.user).key
    assert r.json()["role"] == "applicant"


@pytest.mark.django_db
def test_api_code_reuse_is_refused(client, person):
    client.post("/api/v1/auth/otp/", {"phone": "13912340001"}, content_type="application/json")
    code = last_code()
    body = {"phone": "13912340001", "code": code}
    assert (
        client.post("/api/v1/auth/token/", body, content_type="application/json").status_code == 200
    )
    r = client.post("/api/v1/auth/token/", body, content_type="application/json")
    assert r.status_code == 400
    assert r.json() == {"code": "otp_invalid", "detail": "验证码错误或已使用，请重新获取"}


@pytest.mark.django_db
def test_api_expired_and_wrong_codes(client, person):
    client.post("/api/v1/auth/otp/", {"phone": "13912340001"}, content_type="application/json")
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    r = client.post(
        "/api/v1/auth/token/",
        {"phone": "13912340001", "code": wrong},
        content_type="application/json",
    )
    assert r.status_code == 400 and r.json()["code"] == "otp_invalid"
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    r = client.post(
        "/api/v1/auth/token/",
        {"phone": "13912340001", "code": code},
        content_type="application/json",
    )
    assert r.status_code == 400 and r.json()["code"] == "otp_expired"


@pytest.mark.django_db
def test_api_rate_limit_is_429_with_retry_after(client, person):
    client.post("/api/v1/auth/otp/", {"phone": "13912340001"}, content_type="application/json")
    r = client.post("/api/v1/auth/otp/", {"phone": "13912340001"}, content_type="application/json")
    assert r.status_code == 429
    body = r.json()
    assert body["code"] == "rate_limited"
    assert f"请 {r['Retry-After']} 秒后再试" in body["detail"]


@pytest.mark.django_db
def test_api_error_shapes(client, db):
    r = client.post("/api/v1/auth/otp/", {}, content_type="application/json")
    assert r.status_code == 400 and r.json() == {
        "code": "phone_required",
        "detail": "请填写手机号码",
    }
    r = client.post("/api/v1/auth/otp/", {"phone": "02083001234"}, content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "invalid_mobile"
    r = client.post(
        "/api/v1/auth/token/", {"phone": "13912340001"}, content_type="application/json"
    )
    assert r.json()["code"] == "code_required"
    # present but malformed: said so, not "please fill in"
    r = client.post(
        "/api/v1/auth/token/",
        {"phone": "13912340001", "code": "1234567890123"},
        content_type="application/json",
    )
    assert r.status_code == 400 and r.json() == {
        "code": "otp_invalid",
        "detail": "验证码为 6 位数字，请核对后重新输入",
    }
    r = client.post("/api/v1/auth/otp/", {"phone": "1" * 30}, content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "invalid_mobile"
