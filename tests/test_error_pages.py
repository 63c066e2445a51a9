"""Web error pages speak Chinese (the applicant on a phone never sees Django's English or
technical pages), with DEBUG off as in production."""

import pytest
from django.test import Client


@pytest.fixture
def production_pages(settings):
    settings.DEBUG = False


@pytest.mark.django_db
def test_a_missing_page_is_a_chinese_404(client, production_pages):
    r = client.get("/no-such-page/")
    assert r.status_code == 404
    html = r.content.decode()
    assert "页面不存在" in html and "Not Found" not in html


@pytest.mark.django_db
def test_a_stale_form_after_signing_in_again_gets_a_chinese_page(production_pages, member):
    """The CSRF token rotated (signed in again in another tab) — Django's own page talks
    about DEBUG; ours says the page expired and what to do."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member.user)
    r = browser.post("/apply/form/", {"form_token": "x", "csrfmiddlewaretoken": "stale"})
    assert r.status_code == 403
    html = r.content.decode()
    assert "页面已过期" in html and "重新填写" in html and "DEBUG" not in html


@pytest.mark.django_db
def test_a_server_error_is_a_chinese_page(production_pages, settings):
    from django.template.loader import render_to_string

    html = render_to_string("500.html")  # rendered without a request, as Django does
    assert "系统暂时出错" in html and "请稍后重试" in html


@pytest.mark.django_db
def test_a_bad_request_is_a_chinese_page(production_pages, settings):
    from django.template.loader import render_to_string

    assert "请求有误" in render_to_string("400.html")
    assert "无权访问" in render_to_string("403.html")


REDIS_DOWN = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
    }
}


@pytest.mark.django_db
def test_sign_in_without_redis_says_busy_instead_of_a_500(client, settings):
    """The OTP rate limits live in Redis: without it nothing can be counted, so no code is
    sent, and the caller is told to retry (fail closed)."""
    settings.CACHES = REDIS_DOWN
    r = client.post("/api/v1/auth/otp/", {"phone": "13912345600"}, content_type="application/json")
    assert r.status_code == 503 and r.json()["code"] == "busy" and r["Retry-After"]
    page = client.post("/login/", {"phone": "13912345601", "action": "send"})
    assert page.status_code == 503 and "系统繁忙" in page.content.decode()


@pytest.mark.django_db
def test_an_unexpected_api_error_is_json_in_chinese(client, production_pages, monkeypatch):
    from subsidy.services import otp

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(otp, "request_code", broken)
    client.raise_request_exception = False
    r = client.post("/api/v1/auth/otp/", {"phone": "13912345602"}, content_type="application/json")
    assert r.status_code == 500
    assert r.json() == {"code": "server_error", "detail": "系统暂时出错，请稍后重试"}
    page = client.get("/no-such-page/")
    assert "页面不存在" in page.content.decode()


@pytest.mark.django_db
def test_pages_name_an_icon_and_favicon_ico_leads_to_it(client):
    page = client.get("/").content.decode()
    assert 'rel="icon"' in page and "img/favicon.svg" in page
    r = client.get("/favicon.ico")
    assert r.status_code == 301 and r["Location"].endswith("img/favicon.svg")
