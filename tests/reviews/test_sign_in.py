"""Reviewer sign-in: SMS code (grassroots) and password (district/city) with axes lockout and
the password-reset flow."""

import re

import pytest
from django.contrib.auth import get_user_model

from sms.backends import LocmemBackend


def _code():
    return re.search(r"(\d{6})", LocmemBackend.outbox[-1][1]).group(1)


def test_grassroots_reviewer_signs_in_with_an_sms_code(client, reviewers):
    phone = reviewers.grassroots_a.phone
    r = client.post("/review/login/", {"tab": "otp", "phone": phone, "action": "send"})
    assert r.status_code == 200 and "验证码已发送" in r.content.decode()
    r = client.post(
        "/review/login/", {"tab": "otp", "phone": phone, "code": _code(), "action": "verify"}
    )
    assert r.status_code == 302 and r.url == "/review/"
    assert client.get("/review/").status_code == 200


def test_an_applicant_phone_is_not_a_reviewer_login(client, member):
    client.post("/review/login/", {"tab": "otp", "phone": member.mobile, "action": "send"})
    r = client.post(
        "/review/login/",
        {"tab": "otp", "phone": member.mobile, "code": _code(), "action": "verify"},
    )
    assert r.status_code == 400 and "不是审核员" in r.content.decode()


def test_wrong_code_is_refused_in_chinese(client, reviewers):
    phone = reviewers.grassroots_a.phone
    client.post("/review/login/", {"tab": "otp", "phone": phone, "action": "send"})
    r = client.post(
        "/review/login/", {"tab": "otp", "phone": phone, "code": "000000", "action": "verify"}
    )
    assert r.status_code == 400 and "验证码错误" in r.content.decode()


@pytest.fixture
def district(reviewers):
    user = reviewers.district_yuexiu.user
    user.email = "yuexiu@demo.gz"
    user.set_password("demo-district-2024")
    user.save()
    return user


def test_district_reviewer_signs_in_with_email_and_password(client, district):
    r = client.post(
        "/review/login/",
        {"tab": "password", "identifier": "yuexiu@demo.gz", "password": "demo-district-2024"},
    )
    assert r.status_code == 302


def test_wrong_password_is_refused(client, district):
    r = client.post(
        "/review/login/", {"tab": "password", "identifier": "yuexiu@demo.gz", "password": "x"}
    )
    assert r.status_code == 400 and "账号或密码错误" in r.content.decode()


def test_repeated_failures_lock_the_account_out(client, district, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    from axes.models import AccessAttempt

    AccessAttempt.objects.all().delete()
    for _ in range(3):
        client.post(
            "/review/login/",
            {"tab": "password", "identifier": "yuexiu@demo.gz", "password": "wrong"},
        )
    r = client.post(
        "/review/login/",
        {"tab": "password", "identifier": "yuexiu@demo.gz", "password": "demo-district-2024"},
    )
    assert r.status_code in (403, 429)
    assert "_auth_user_id" not in client.session


def test_password_reset_by_the_roster_email(client, district, settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    district.email = ""
    district.save()
    profile = district.reviewer
    profile.email = "roster@demo.gz"
    profile.save()
    r = client.post("/review/password-reset/", {"email": "roster@demo.gz"})
    assert r.status_code == 302
    mail = "".join(p.read_text() for p in (tmp_path / "mail").iterdir())
    assert "roster@demo.gz" in mail
    link = re.search(r"http://testserver(/review/password-reset/\S+/\S+/)", mail).group(1)
    r = client.get(link, follow=True)
    assert r.status_code == 200
    r = client.post(
        r.redirect_chain[-1][0],
        {"new_password1": "Xy7-new-secret-2024", "new_password2": "Xy7-new-secret-2024"},
    )
    assert r.status_code == 302
    assert get_user_model().objects.get(pk=district.pk).check_password("Xy7-new-secret-2024")


def test_a_burst_against_one_account_from_many_addresses_slows_down(
    client, district, settings, monkeypatch
):
    """axes locks per account + address, so a distributed burst is never locked there; the
    per-account throttle (reviews.services.signin) makes it wait instead, and the reviewer
    still gets in once the short gap has passed."""
    import time

    settings.STAFF_ACCOUNT_SOFT_LIMIT = 10
    settings.STAFF_ACCOUNT_MAX_GAP = 60
    wrong = {"tab": "password", "identifier": "yuexiu@demo.gz", "password": "wrong"}
    for n in range(10):
        r = client.post("/review/login/", wrong, REMOTE_ADDR=f"203.0.113.{n + 1}")
        assert r.status_code == 400
    r = client.post("/review/login/", wrong, REMOTE_ADDR="203.0.113.50")
    assert r.status_code == 400  # the 11th failure sets the first gap …
    right = {**wrong, "password": "demo-district-2024"}
    r = client.post("/review/login/", right, REMOTE_ADDR="198.51.100.7")
    assert r.status_code == 429 and 0 < int(r["Retry-After"]) <= 3  # … of 2 seconds
    assert "该账号登录失败次数过多" in r.content.decode()
    for n in range(6):  # the gap doubles with every failure, up to the cap
        monkeypatch.setattr(time, "time", lambda n=n: 10_000_000_000 + n * 100)
        client.post("/review/login/", wrong, REMOTE_ADDR=f"203.0.113.{60 + n}")
    r = client.post("/review/login/", right, REMOTE_ADDR="198.51.100.7")
    assert r.status_code == 429 and int(r["Retry-After"]) == 61  # capped at a minute
    monkeypatch.setattr(time, "time", lambda: 10_000_000_000 + 500 + 62)
    r = client.post("/review/login/", right, REMOTE_ADDR="198.51.100.7")
    assert r.status_code == 302  # the reviewer is in after the wait
