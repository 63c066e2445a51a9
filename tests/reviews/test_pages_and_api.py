"""The reviewer pages and API around the decision service: status codes, messages, masking,
the PII log, export, query counts."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from reviews.models import OpenedApplication, PIIViewLog
from subsidy.models import Application


@pytest.fixture
def grassroots(client, reviewers):
    client.force_login(reviewers.grassroots_a.user)
    return client


def test_opening_the_detail_page_records_it_and_shows_registry_beside_job(grassroots, app_a1):
    response = grassroots.get(f"/review/applications/{app_a1.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "广东开放大学" in html and "机械设计制造及其自动化" in html and "机修工" in html
    assert app_a1.id_number not in html and app_a1.bank_account not in html
    assert app_a1.masked_id_number in html
    assert f"/applications/{app_a1.pk}/photo/" in html or not app_a1.bank_card_photo
    assert OpenedApplication.objects.filter(application=app_a1).count() == 1


def test_detail_shows_the_bin_flag(grassroots, make_app, tree):
    app = make_app(tree.a1, bin_unknown=True, bank_card_photo="cards/x.jpg")
    html = grassroots.get(f"/review/applications/{app.pk}/").content.decode()
    assert "卡号不在工商银行卡 BIN 表内" in html
    assert f'src="/applications/{app.pk}/photo/"' in html


def test_reveal_is_logged_with_who_what_and_ip(grassroots, reviewers, app_a1):
    response = grassroots.post(
        f"/review/applications/{app_a1.pk}/reveal/id_number/", REMOTE_ADDR="10.1.2.3"
    )
    assert response.status_code == 200 and app_a1.id_number in response.content.decode()
    log = PIIViewLog.objects.get()
    assert (log.user, log.application_id, log.field, log.ip) == (
        reviewers.grassroots_a.user,
        app_a1.pk,
        "id_number",
        "10.1.2.3",
    )


def test_reveal_of_an_unknown_field_is_404_and_not_logged(grassroots, app_a1):
    assert grassroots.post(f"/review/applications/{app_a1.pk}/reveal/mobile/").status_code == 404
    assert not PIIViewLog.objects.exists()


def test_page_decision_without_tick_says_so_and_changes_nothing(grassroots, app_a1):
    response = grassroots.post(
        f"/review/applications/{app_a1.pk}/decide/",
        {"decision": "approve", "expected_status": "pending_grassroots"},
    )
    assert response.status_code == 400 and "确认在职职工" in response.content.decode()
    assert Application.objects.get(pk=app_a1.pk).status == "pending_grassroots"


def test_page_decision_on_a_changed_application_is_409_with_current_state(grassroots, app_a1):
    Application.objects.filter(pk=app_a1.pk).update(status="grassroots_rejected")
    response = grassroots.post(
        f"/review/applications/{app_a1.pk}/decide/",
        {"decision": "approve", "confirm_employed": "on", "expected_status": "pending_grassroots"},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "状态已变更" in html and "基层工会审核不通过" in html


def test_page_approve_redirects_to_the_queue(grassroots, app_a1):
    response = grassroots.post(
        f"/review/applications/{app_a1.pk}/decide/",
        {"decision": "approve", "confirm_employed": "on", "expected_status": "pending_grassroots"},
    )
    assert response.status_code == 302
    assert Application.objects.get(pk=app_a1.pk).status == "pending_district"


def test_api_conflict_body(client, reviewers, app_a1):
    client.force_login(reviewers.grassroots_a.user)
    Application.objects.filter(pk=app_a1.pk).update(status="pending_district")
    r = client.post(
        f"/api/v1/reviews/{app_a1.pk}/reject/", {"reason": "x"}, content_type="application/json"
    )
    assert r.status_code == 409
    assert r.json()["code"] == "conflict" and r.json()["status"] == "pending_district"


def test_api_reject_without_reason(client, reviewers, app_a1):
    client.force_login(reviewers.grassroots_a.user)
    r = client.post(f"/api/v1/reviews/{app_a1.pk}/reject/", {}, content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "reason_required"


def test_api_list_is_masked_and_filtered(client, reviewers, make_app, tree):
    a = make_app(tree.a1, name="张三", worker_group="manufacturing")
    make_app(tree.a2, name="李四")
    make_app(tree.b1, name="王五")
    client.force_login(reviewers.district_yuexiu.user)
    data = client.get("/api/v1/reviews/").json()
    assert {r["name"] for r in data["results"]} == {"张三", "李四"}
    assert a.id_number not in str(data)
    assert client.get("/api/v1/reviews/?q=张").json()["count"] == 1
    assert client.get(f"/api/v1/reviews/?q={a.id_number}").json()["results"][0]["id"] == a.pk
    assert client.get(f"/api/v1/reviews/?union={tree.a2.pk}").json()["count"] == 1
    assert client.get("/api/v1/reviews/?worker_group=priority").json()["count"] == 1
    assert client.get("/api/v1/reviews/?status=pending_city").json()["count"] == 0


def test_grassroots_search_by_id_number_finds_nothing(client, reviewers, make_app, tree):
    a = make_app(tree.a1)
    client.force_login(reviewers.grassroots_a.user)
    assert client.get(f"/api/v1/reviews/?q={a.id_number}").json()["count"] == 0
    assert client.get(f"/api/v1/reviews/?q={a.mobile}").json()["count"] == 1


def test_dashboard_counts_overdue_and_priority(client, reviewers, make_app, tree, campaign):
    from datetime import timedelta

    from django.utils import timezone

    make_app(tree.a1, worker_group="model_worker")
    make_app(tree.a1, status="pending_district")
    campaign.grassroots_review_until = timezone.now() - timedelta(hours=1)
    campaign.save()
    client.force_login(reviewers.district_yuexiu.user)
    html = client.get("/review/").content.decode()
    assert "待基层工会审核（1）" in html and "逾期" in html and "★" in html
    r = client.get("/review/?overdue=1", HTTP_HX_REQUEST="true")
    assert r.content.decode().count('class="overdue"') == 1


def test_export_is_scoped_and_masked(client, reviewers, make_app, tree):
    a = make_app(tree.a1, name="张三")
    make_app(tree.b1, name="王五")
    client.force_login(reviewers.district_yuexiu.user)
    r = client.get("/review/export.xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("排队号", "姓名", "身份证号码")
    assert [row[1] for row in rows[1:]] == ["张三"]
    flat = str(rows)
    assert a.id_number not in flat and a.bank_account not in flat
    assert a.masked_id_number in flat and "****7281" in flat


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/review/?per_page={n}", "/api/v1/reviews/?page_size={n}"])
def test_list_query_count_is_fixed_whatever_the_page_size(client, reviewers, make_app, tree, url):
    for _ in range(50):
        make_app(tree.a1)
    client.force_login(reviewers.district_yuexiu.user)
    small = _count(client, url.format(n=20 if "per_page" in url else 5))
    large = _count(client, url.format(n=50))
    assert small == large


def test_dashboard_query_count_is_a_fixed_number(
    client, reviewers, make_app, tree, django_assert_num_queries
):
    for _ in range(5):
        make_app(tree.a1)
    client.force_login(reviewers.district_yuexiu.user)
    client.get("/review/")  # warm the session
    n = _count(client, "/review/")
    for _ in range(45):
        make_app(tree.a2)
    with django_assert_num_queries(n):
        client.get("/review/?per_page=50")
    with django_assert_num_queries(n - 0):
        client.get("/review/?per_page=20")
