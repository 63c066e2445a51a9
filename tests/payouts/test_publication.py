"""Publication (公示, R7 freeze), the public list (masked, cached), revocation and promotion."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from payouts.services.allocation import allocate
from payouts.services.errors import PayoutError
from payouts.services.publication import publish
from payouts.services.revocation import revoke
from reviews.models import AuditRecord
from subsidy.models import Application, ApplicationStatus, Campaign
from tests.payouts.conftest import end_intake, make_app, statuses
from unions.pii import mask_name

S = ApplicationStatus
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name,masked",
    [
        ("张", "张"),
        ("张明", "张*"),
        ("张小明", "张*明"),
        ("张小明明", "张**明"),
        ("欧阳修", "欧*修"),
        ("欧阳小明", "欧阳*明"),
        ("司马相如", "司马*如"),
        ("诸葛孔明亮", "诸葛**亮"),
        ("  王芳 ", "王*"),
        ("", ""),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


@pytest.fixture
def published(small_campaign, tree):
    apps = [make_app(small_campaign, tree.a1, m) for m in (10, 20, 30, 40, 50)]
    Application.objects.filter(pk=apps[0].pk).update(name="欧阳小明")
    Application.objects.filter(pk=apps[1].pk).update(name="张明")
    Application.objects.filter(pk=apps[2].pk).update(name="李小龙", union=tree.b1)
    allocate(small_campaign)
    end_intake(small_campaign)
    publish(small_campaign.pk)
    small_campaign.refresh_from_db()
    return small_campaign, apps


def test_publish_sets_published_at_and_refuses_twice(published):
    campaign, _ = published
    assert campaign.published_at is not None
    with pytest.raises(PayoutError) as exc:
        publish(campaign.pk)
    assert exc.value.code == "already_published"


def test_publish_with_nothing_funded_is_refused(small_campaign):
    end_intake(small_campaign)
    with pytest.raises(PayoutError) as exc:
        publish(small_campaign.pk)
    assert exc.value.code == "nothing_to_publish"
    small_campaign.refresh_from_db()
    assert small_campaign.published_at is None


def test_public_api_lists_masked_grantees_without_login(published, tree):
    campaign, apps = published
    r = APIClient().get(f"/api/v1/public/campaigns/{campaign.pk}/grantees/")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 3
    assert [row["name"] for row in body["results"]] == ["欧阳*明", "张*", "李*龙"]
    assert body["results"][2]["union"] == tree.b1.name
    assert body["results"][2]["district"] == tree.haizhu.name
    assert body["results"][0]["type"] == "成人高等教育在职学历提升报读"
    text = r.content.decode()
    assert "欧阳小明" not in text and apps[0].id_number not in text


def test_public_page_shows_the_list_then_says_the_period_ended(published, client):
    campaign, _ = published
    html = client.get("/public/").content.decode()
    assert "欧阳*明" in html and "欧阳小明" not in html
    assert client.get(f"/public/campaigns/{campaign.pk}/").status_code == 200
    Campaign.objects.filter(pk=campaign.pk).update(
        published_at=timezone.now() - timedelta(days=campaign.publication_days, minutes=1)
    )
    r = client.get(f"/public/campaigns/{campaign.pk}/")
    html = r.content.decode()
    assert "公示期已结束" in html and "欧阳*明" not in html
    r = APIClient().get(f"/api/v1/public/campaigns/{campaign.pk}/grantees/")
    assert r.status_code == 410 and r.json() == {
        "code": "publication_ended",
        "detail": "公示期已结束",
    }


def test_before_publication_the_list_is_not_public(small_campaign, tree, client):
    make_app(small_campaign, tree.a1, 1)
    allocate(small_campaign)
    r = client.get(f"/public/campaigns/{small_campaign.pk}/")
    assert r.status_code == 404 and "尚未公示" in r.content.decode()
    r = APIClient().get(f"/api/v1/public/campaigns/{small_campaign.pk}/grantees/")
    assert r.status_code == 404 and r.json()["code"] == "not_published"


def test_public_list_is_cached_and_revocation_invalidates_it(
    published, city_user, client, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    campaign, apps = published
    url = f"/public/campaigns/{campaign.pk}/"
    client.get(url)
    with django_assert_max_num_queries(2):  # campaign row (+ session) only, the list is cached
        html = client.get(url).content.decode()
    assert "张*" in html
    with django_capture_on_commit_callbacks(execute=True):
        revoke(Application.objects.get(pk=apps[1].pk), city_user, "提供虚假材料")
    html = client.get(url).content.decode()
    assert "张*" not in html  # revoked grantee gone
    # main list: header + 2 grantees; the 4th, promoted, on the supplementary list under it
    main, supplementary = html.split('id="supplementary"')
    assert main.count("<tr>") == 1 + 2 and supplementary.count("<tr>") == 1 + 1


def test_a_revocation_reason_keeps_id_and_card_numbers_masked(published, city_user):
    campaign, apps = published
    revoke(
        Application.objects.get(pk=apps[0].pk),
        city_user,
        "与 440104198001010011 重复申领，卡 6222021234567890128",
    )
    app = Application.objects.get(pk=apps[0].pk)
    texts = [app.rejection_reason or "", AuditRecord.objects.filter(application=app).last().reason]
    assert any("440104********0011" in t and "****0128" in t for t in texts)
    assert not any("440104198001010011" in t or "6222021234567890128" in t for t in texts)


def test_revocation_promotes_best_ranked_waitlisted_and_audits_both(published, city_user):
    campaign, apps = published
    promoted = revoke(Application.objects.get(pk=apps[0].pk), city_user, "重复申领")
    assert promoted.pk == apps[3].pk  # the 4th submission, best-ranked on the waitlist
    st = statuses(campaign)
    assert st[apps[0].pk] == S.REVOKED
    assert st[apps[3].pk] == S.FUNDED and st[apps[4].pk] == S.WAITLISTED
    assert Application.objects.get(pk=apps[0].pk).revoked_reason == "重复申领"
    rec = AuditRecord.objects.get(application=apps[0], to_status=S.REVOKED)
    assert rec.reason == "重复申领" and rec.actor_id == city_user.pk
    assert AuditRecord.objects.filter(
        application=apps[3], from_status=S.WAITLISTED, to_status=S.FUNDED
    ).exists()
    # allocation afterwards leaves the published list alone (R7)
    allocate(campaign)
    assert statuses(campaign) == st


def test_publication_freezes_funded_against_later_allocation(published, tree):
    campaign, apps = published
    earlier = make_app(campaign, tree.a1, 1)  # approved after 公示, submitted before all
    allocate(campaign)
    st = statuses(campaign)
    assert [st[a.pk] for a in apps[:3]] == [S.FUNDED] * 3
    assert st[earlier.pk] == S.WAITLISTED


def test_revoke_api_requires_reason_in_chinese(published, city_api):
    campaign, apps = published
    url = f"/api/v1/applications/{apps[0].pk}/revoke/"
    r = city_api.post(url, {"reason": "  "}, format="json")
    assert r.status_code == 400
    assert r.json() == {"code": "reason_required", "detail": "请填写取消补助资格的原因"}
    assert statuses(campaign)[apps[0].pk] == S.FUNDED
    r = city_api.post(url, {"reason": "不符合条件"}, format="json")
    assert r.status_code == 200
    assert r.json()["status"] == S.REVOKED and r.json()["promoted"]["id"] == apps[3].pk
    r = city_api.post(url, {"reason": "再次"}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "not_funded"


def test_revoke_api_scope(published, reviewers):
    campaign, apps = published
    url = f"/api/v1/applications/{apps[2].pk}/revoke/"  # in 海珠 (b1)
    outside = APIClient()
    outside.force_authenticate(reviewers.district_yuexiu.user)
    assert outside.post(url, {"reason": "x"}, format="json").status_code == 404
    inside = APIClient()
    inside.force_authenticate(reviewers.district_haizhu.user)
    r = inside.post(url, {"reason": "x"}, format="json")
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    assert statuses(campaign)[apps[2].pk] == S.FUNDED


def test_publish_api_and_button(small_campaign, tree, city_api, city_client, reviewers):
    make_app(small_campaign, tree.a1, 1)
    end_intake(small_campaign)
    other = APIClient()
    other.force_authenticate(reviewers.grassroots_a.user)
    assert other.post(f"/api/v1/campaigns/{small_campaign.pk}/publish/").status_code == 403
    r = city_api.post(f"/api/v1/campaigns/{small_campaign.pk}/publish/")
    assert r.status_code == 200 and r.json()["published_at"]
    r = city_api.post(f"/api/v1/campaigns/{small_campaign.pk}/publish/")
    assert r.status_code == 409 and r.json()["detail"] == "本批次名单已公示，不能重复公示"
    r = city_client.post(f"/payouts/campaigns/{small_campaign.pk}/publish/", follow=True)
    assert "本批次名单已公示" in r.content.decode()


def test_revoke_button_without_reason_shows_chinese_error(published, city_client):
    campaign, apps = published
    r = city_client.post(f"/payouts/applications/{apps[0].pk}/revoke/", {"reason": ""}, follow=True)
    assert "请填写取消补助资格的原因" in r.content.decode()
    assert statuses(campaign)[apps[0].pk] == S.FUNDED


def test_a_revocation_reason_with_a_nul_is_refused_on_the_page(published, city_client):
    campaign, apps = published
    r = city_client.post(
        f"/payouts/applications/{apps[0].pk}/revoke/", {"reason": "a\x00b"}, follow=True
    )
    assert r.status_code == 200 and "无法识别的字符" in r.content.decode()
    assert statuses(campaign)[apps[0].pk] == S.FUNDED
