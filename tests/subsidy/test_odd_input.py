"""Odd input that answered 500 (found by fuzzing the applicant's pages and API): each now
gets a 4xx with a Chinese message or a machine code, and nothing is stored."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from subsidy.models import Application
from tests.subsidy.conftest import form_data, photo, post_application
from tests.subsidy.test_form_validation import _page_token

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "field, value, code",
    [
        ("job_position", "ﷺ" * 6, "job_position_too_long"),  # NFKC: 18 characters each
        ("bank_branch", "中国工商银行" + "㌀" * 30, "bank_branch_too_long"),  # 4 each
    ],
)
def test_text_that_normalisation_lengthens_is_refused_as_too_long(
    api, applicant, campaign, settings, field, value, code
):
    r = post_application(api, **{field: value})
    assert r.status_code == 400 and r.json()["code"] == code
    assert not Application.objects.exists()
    received = settings.PRIVATE_MEDIA_ROOT / "card-photos" / "received"
    assert not received.exists() or all(not any(p.read_bytes()) for p in received.iterdir())


def test_the_same_on_the_web_form(client, applicant, campaign):
    client.force_login(applicant.user)
    data = form_data(job_position="ﷺ" * 6, form_token=_page_token(client))
    data["card_photo"] = photo()
    r = client.post("/apply/form/", data)
    assert r.status_code == 400 and "工作岗位不超过 100 个字" in r.content.decode()
    assert not Application.objects.exists()


def test_a_retry_whose_fields_come_as_files_is_another_request(api, applicant, campaign):
    assert post_application(api, key="k1").status_code == 201
    as_file = SimpleUploadedFile("a.txt", b"enrollment", content_type="text/plain")
    r = post_application(api, key="k1", kind=as_file)
    assert r.status_code == 409 and r.json()["code"] == "idempotency_key_reused"


def test_a_tampered_form_token_is_an_expired_page(client, applicant, campaign):
    client.force_login(applicant.user)
    _page_token(client)
    data = form_data(form_token="a\x00")
    data["card_photo"] = photo()
    r = client.post("/apply/form/", data)
    assert r.status_code == 400 and "页面已过期" in r.content.decode()
    assert not Application.objects.exists()


@pytest.mark.parametrize("nxt", ["//%5B", "http://[::1", "//["])
def test_a_next_that_is_not_a_url_is_ignored(client, nxt):
    assert client.get(f"/login/?next={nxt}").status_code == 200
    assert client.post("/login/", {"phone": "13900000001", "next": nxt}).status_code in (200, 429)


@pytest.mark.parametrize("path", ["/login/", "/apply/form/", "/api/v1/auth/otp/"])
def test_a_form_body_in_another_charset_is_a_400(client, path):
    ctype = "application/x-www-form-urlencoded; charset=latin-1"
    r = client.post(path, "phone=1", content_type=ctype)
    assert r.status_code == 400
    if path.startswith("/api/"):
        assert r.json()["code"] == "bad_encoding"
    else:
        assert "无法识别" in r.content.decode()


@pytest.mark.parametrize("path", ["/api/v1/auth/otp/", "/api/v1/auth/token/"])
def test_json_nested_too_deeply_is_a_parse_error(client, path):
    body = "[" * 5000 + "]" * 5000
    r = client.post(path, body, content_type="application/json")
    assert r.status_code == 400


@pytest.mark.parametrize("path", ["/api/v1/health/", "/api/v1/applications/mine/"])
def test_a_token_with_a_nul_is_refused_not_a_500(client, path):
    r = client.get(path, HTTP_AUTHORIZATION="Token a\x00b")
    assert r.status_code == 401


def test_a_token_with_a_nul_on_the_submission_is_refused(client, applicant, campaign):
    data = form_data()
    data["card_photo"] = photo()
    r = client.post("/api/v1/applications/", data, HTTP_AUTHORIZATION="Token a\x00b")
    assert r.status_code == 401 and not Application.objects.exists()


def test_other_methods_on_the_form_page_never_reach_the_submit(client, applicant, campaign):
    client.force_login(applicant.user)
    assert client.head("/apply/form/").status_code == 200
    assert client.options("/apply/form/").status_code == 405
    assert client.generic("TRACE", "/apply/form/").status_code == 405
    assert not Application.objects.exists()
