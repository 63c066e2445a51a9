"""The progress page and GET /api/v1/applications/mine/: attempts, timelines, queue position,
hotline and FAQ; someone else's application is a 404."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from reviews.models import PIIViewLog
from subsidy.models import FAQ, Application
from subsidy.models import ApplicationStatus as S
from tests.factories import ApplicationFactory, MemberFactory
from tests.subsidy.conftest import post_application


def _api_for(user):
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return c


@pytest.fixture
def rejected_then_resubmitted(api, applicant, campaign, reviewers):
    first = Application.objects.get(pk=post_application(api).json()["id"])
    first.registry_pass(by=None)
    first.save()
    first.grassroots_reject(by=reviewers.grassroots_a.user, reason="工作岗位填写不完整")
    first.save()
    second = Application.objects.get(pk=post_application(api).json()["id"])
    return first, second


@pytest.mark.django_db
def test_mine_lists_every_attempt_with_its_timeline(api, rejected_then_resubmitted, tree):
    first, second = rejected_then_resubmitted
    body = api.get("/api/v1/applications/mine/").json()
    results = body["results"]
    assert [a["id"] for a in results] == [second.pk, first.pk]
    old = results[1]
    assert old["status"] == "grassroots_rejected" and old["status_label"] == "基层工会审核不通过"
    steps = [(e["status"], e["label"]) for e in old["timeline"]]
    assert steps == [
        ("pending_chsi", "提交申领"),
        ("pending_grassroots", "待基层工会审核"),
        ("grassroots_rejected", "基层工会审核不通过"),
    ]
    rejection = old["timeline"][-1]
    assert rejection["reason"] == "工作岗位填写不完整" and rejection["level"] == "grassroots"
    assert rejection["by"] == tree.a1.name
    assert old["queue_position"] is None
    assert results[0]["attempt"] == 2 and results[0]["queue_position"] == 1
    assert body["hotline"] == "越秀区总工会：87370160"
    assert body["faqs"] and {"question", "answer"} <= set(body["faqs"][0])


@pytest.mark.django_db
def test_queue_position_counts_those_still_in_the_running(tree, campaign, applicant, api):
    ahead = [
        ApplicationFactory(campaign=campaign, member=MemberFactory(union=tree.a1)) for _ in range(3)
    ]
    Application.objects.filter(pk=ahead[0].pk).update(status=S.CHSI_FAILED)
    r = post_application(api)
    mine = api.get("/api/v1/applications/mine/").json()["results"][0]
    assert mine["queue_number"] == 4 == r.json()["queue_number"]
    assert mine["queue_position"] == 3  # two still ahead, plus one


@pytest.mark.django_db
def test_registry_failure_reason_is_shown(api, applicant, campaign):
    app = Application.objects.get(pk=post_application(api).json()["id"])
    app.registry_fail(by=None, reason="学籍注册时间不在补助范围内")
    app.save()
    mine = api.get("/api/v1/applications/mine/").json()["results"][0]
    assert mine["registry_reason"] == "学籍注册时间不在补助范围内"
    assert mine["timeline"][-1]["reason"] == "学籍注册时间不在补助范围内"
    assert mine["can_resubmit"] is True


@pytest.mark.django_db
def test_progress_page_shows_timeline_reason_hotline_and_faq(
    client, rejected_then_resubmitted, applicant
):
    FAQ.objects.create(position=99, question="测试问题？", answer="测试回答。")
    client.force_login(applicant.user)
    html = client.get("/apply/progress/").content.decode()
    assert "基层工会审核不通过" in html and "工作岗位填写不完整" in html
    assert "第 2 次申领" in html and "当前排位" in html
    assert "越秀区总工会：87370160" in html
    assert "测试问题？" in html
    assert "****" in html and applicant.id_number not in html


@pytest.mark.django_db
def test_hotline_falls_back_to_the_general_one(client, tree, campaign):
    tree.yuexiu.hotline = ""
    tree.yuexiu.save()
    m = MemberFactory(union=tree.a1)
    client.force_login(m.user)
    assert "咨询电话：85571310、85524304" in client.get("/apply/").content.decode()


@pytest.mark.django_db
def test_help_footer_on_every_applicant_page(client, applicant, campaign):
    FAQ.objects.create(position=99, question="页脚问题？", answer="页脚回答。")
    assert "页脚问题？" in client.get("/login/").content.decode()
    client.force_login(applicant.user)
    for url in ("/apply/", "/apply/form/", "/apply/progress/"):
        html = client.get(url).content.decode()
        assert "页脚问题？" in html and "越秀区总工会：87370160" in html, url


@pytest.mark.django_db
def test_someone_elses_application_is_404_in_the_api(api, tree, campaign, applicant):
    other = ApplicationFactory(campaign=campaign, member=MemberFactory(union=tree.a1))
    r = api.get(f"/api/v1/applications/{other.pk}/")
    assert r.status_code == 404 and r.json() == {"code": "not_found", "detail": "未找到该记录"}
    mine = post_application(api).json()["id"]
    assert api.get(f"/api/v1/applications/{mine}/").status_code == 200


# --- the photo view -----------------------------------------------------------------
@pytest.fixture
def submitted(api, applicant, campaign):
    app = Application.objects.get(pk=post_application(api).json()["id"])
    app.registry_pass(by=None)
    app.save()
    return app


@pytest.mark.django_db
def test_owner_sees_their_photo(client, submitted, applicant):
    client.force_login(applicant.user)
    r = client.get(f"/applications/{submitted.pk}/photo/")
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    assert b"".join(r.streaming_content)[:2] == b"\xff\xd8"
    assert not PIIViewLog.objects.exists()


@pytest.mark.django_db
def test_reviewer_in_scope_sees_the_photo_and_it_is_logged(client, submitted, reviewers):
    client.force_login(reviewers.district_yuexiu.user)
    assert client.get(f"/applications/{submitted.pk}/photo/").status_code == 200
    log = PIIViewLog.objects.get()
    assert log.field == "card_photo" and log.application == submitted


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["grassroots_b", "district_haizhu", "industry"])
def test_reviewer_out_of_scope_gets_404(client, submitted, reviewers, who):
    client.force_login(getattr(reviewers, who).user)
    assert client.get(f"/applications/{submitted.pk}/photo/").status_code == 404
    assert not PIIViewLog.objects.exists()


@pytest.mark.django_db
def test_another_applicant_gets_404(client, submitted, tree):
    client.force_login(MemberFactory(union=tree.a1).user)
    assert client.get(f"/applications/{submitted.pk}/photo/").status_code == 404
    assert client.get("/applications/999999/photo/").status_code == 404


@pytest.mark.django_db
def test_photo_of_an_application_still_at_the_registry_is_hidden_from_grassroots(
    client, api, applicant, campaign, reviewers
):
    """Attachment 2: grassroots never see it; attachment 3: district and city may (the
    photo is re-encoded before it is served)."""
    app_id = post_application(api).json()["id"]  # pending_chsi
    client.force_login(reviewers.grassroots_a.user)
    assert client.get(f"/applications/{app_id}/photo/").status_code == 404
    client.force_login(reviewers.city.user)
    r = client.get(f"/applications/{app_id}/photo/")
    assert r.status_code == 200 and b"".join(r.streaming_content)[:2] == b"\xff\xd8"


@pytest.mark.django_db
def test_anonymous_is_sent_to_sign_in(client, submitted):
    r = client.get(f"/applications/{submitted.pk}/photo/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")
