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
