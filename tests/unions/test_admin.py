"""The Django admin: Chinese, masked PII in every list, exact ID-number search through the
blind index, read-only applications scoped through visible_to for non-superusers."""

import pytest
from django.contrib.auth.models import Permission

from subsidy.models import ApplicationStatus
from tests.factories import ApplicationFactory, MemberFactory, make_id_number
from unions.models import JoinRequest, Member, MembershipStatus
from unions.services import membership

CHANGELISTS = [
    "/admin/unions/union/",
    "/admin/unions/member/",
    "/admin/unions/joinrequest/",
    "/admin/unions/transferrequest/",
    "/admin/unions/membershipevent/",
    "/admin/unions/reviewerprofile/",
    "/admin/subsidy/campaign/",
    "/admin/subsidy/application/",
    "/admin/subsidy/bankbin/",
    "/admin/subsidy/commitmentletter/",
    "/admin/subsidy/faq/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", CHANGELISTS)
def test_every_changelist_renders_in_chinese(admin_client, tree, campaign, url):
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "求学圆梦" in response.content.decode()


@pytest.mark.django_db
def test_member_list_masks_id_numbers_and_mobiles(admin_client, tree):
    number = make_id_number(801)
    member = MemberFactory(union=tree.a1, id_number=number, mobile="13912345678")
    html = admin_client.get("/admin/unions/member/").content.decode()
    assert member.name in html
    assert number not in html and "440106********" + number[-4:] in html
    assert "13912345678" not in html and "139****5678" in html


@pytest.mark.django_db
def test_member_change_page_does_not_show_the_full_id_number(admin_client, tree):
    number = make_id_number(802)
    member = MemberFactory(union=tree.a1, id_number=number)
    html = admin_client.get(f"/admin/unions/member/{member.pk}/change/").content.decode()
    assert number not in html and member.masked_id_number in html


@pytest.mark.django_db
def test_application_list_masks_id_and_account(admin_client, tree, campaign, member):
    app = ApplicationFactory(campaign=campaign, member=member, bank_account="6222021001115227281")
    html = admin_client.get("/admin/subsidy/application/").content.decode()
    assert app.name in html
    assert member.id_number not in html and member.masked_id_number in html
    assert "6222021001115227281" not in html and "****7281" in html
    detail = admin_client.get(f"/admin/subsidy/application/{app.pk}/change/").content.decode()
    assert member.id_number not in detail and "6222021001115227281" not in detail


@pytest.mark.django_db
def test_member_search_by_exact_id_number_uses_the_blind_index(admin_client, tree):
    number = make_id_number(803)
    wanted = MemberFactory(union=tree.a1, id_number=number, name="要找的人")
    MemberFactory(union=tree.a1, name="别人")
    html = admin_client.get("/admin/unions/member/", {"q": number}).content.decode()
    assert wanted.name in html and "别人" not in html
    # a partial ID number does not match (no plaintext to compare with)
    html = admin_client.get("/admin/unions/member/", {"q": number[:17]}).content.decode()
    assert wanted.name not in html


@pytest.mark.django_db
def test_member_search_by_name_and_mobile(admin_client, tree):
    MemberFactory(union=tree.a1, name="林一一", mobile="13911112222")
    MemberFactory(union=tree.a1, name="黄二二", mobile="13933334444")
    html = admin_client.get("/admin/unions/member/", {"q": "林一一"}).content.decode()
    assert "林一一" in html and "黄二二" not in html
    html = admin_client.get("/admin/unions/member/", {"q": "13933334444"}).content.decode()
    assert "黄二二" in html and "林一一" not in html


@pytest.mark.django_db
def test_application_search_by_id_number(admin_client, tree, campaign):
    a = ApplicationFactory(campaign=campaign, member=MemberFactory(union=tree.a1, name="甲申请人"))
    ApplicationFactory(campaign=campaign, member=MemberFactory(union=tree.a1, name="乙申请人"))
    html = admin_client.get("/admin/subsidy/application/", {"q": a.id_number}).content.decode()
    assert "甲申请人" in html and "乙申请人" not in html


@pytest.mark.django_db
def test_adding_a_member_with_a_duplicate_id_number_is_a_form_error(admin_client, tree):
    number = make_id_number(804)
    MemberFactory(union=tree.a1, id_number=number)
    response = admin_client.post(
        "/admin/unions/member/add/",
        {
            "name": "重复者",
            "id_number_input": number,
            "mobile": "13955556666",
            "union": tree.a2.pk,
            "status": MembershipStatus.ACTIVE,
            "membership_events-TOTAL_FORMS": "0",
            "membership_events-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "该身份证号码已登记为会员" in response.content.decode()
    assert Member.objects.count() == 1


@pytest.mark.django_db
def test_adding_a_member_with_a_landline_is_a_form_error(admin_client, tree):
    response = admin_client.post(
        "/admin/unions/member/add/",
        {
            "name": "座机者",
            "id_number_input": make_id_number(805),
            "mobile": "020-83001234",
            "union": tree.a2.pk,
            "status": MembershipStatus.ACTIVE,
            "membership_events-TOTAL_FORMS": "0",
            "membership_events-INITIAL_FORMS": "0",
        },
    )
    assert "请填写手机号码，而不是固定电话" in response.content.decode()
    assert not Member.objects.exists()


@pytest.mark.django_db
def test_admin_adds_a_member_with_an_encrypted_id_number(admin_client, tree):
    number = make_id_number(806)
    response = admin_client.post(
        "/admin/unions/member/add/",
        {
            "name": "新会员",
            "id_number_input": " " + number.lower(),
            "mobile": "13977778888",
            "union": tree.a2.pk,
            "status": MembershipStatus.ACTIVE,
            "membership_events-TOTAL_FORMS": "0",
            "membership_events-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert Member.objects.by_id_number(number).get().id_number == number


@pytest.mark.django_db
def test_approve_join_requests_from_the_admin_action(admin_client, tree):
    member = membership.register_member(
        name="入会者", id_number=make_id_number(807), mobile="13966665555", union=tree.a1
    )
    req = JoinRequest.objects.get(member=member)
    response = admin_client.post(
        "/admin/unions/joinrequest/",
        {"action": "approve_selected", "_selected_action": [req.pk]},
        follow=True,
    )
    assert "已批准 1 条" in response.content.decode()
    member.refresh_from_db()
    assert member.status == MembershipStatus.ACTIVE and member.active_since is not None


@pytest.mark.django_db
def test_staff_reviewer_sees_only_applications_visible_to_them(client, tree, campaign, reviewers):
    mine = ApplicationFactory(campaign=campaign, member=MemberFactory(union=tree.a1, name="本会"))
    ApplicationFactory(campaign=campaign, member=MemberFactory(union=tree.b1, name="外会"))
    ApplicationFactory(
        campaign=campaign,
        member=MemberFactory(union=tree.a1, name="校核中"),
        status=ApplicationStatus.PENDING_CHSI,
    )
    user = reviewers.grassroots_a.user
    user.is_staff = True
    user.save()
    user.user_permissions.add(Permission.objects.get(codename="view_application"))
    client.force_login(user)
    html = client.get("/admin/subsidy/application/").content.decode()
    assert "本会" in html and "外会" not in html and "校核中" not in html
    assert client.get(f"/admin/subsidy/application/{mine.pk}/change/").status_code == 200
    other = ApplicationFactory(campaign=campaign, member=MemberFactory(union=tree.b1))
    response = client.get(f"/admin/subsidy/application/{other.pk}/change/")
    assert response.status_code in (302, 404)  # admin redirects an unknown id to the index


@pytest.mark.django_db
def test_applications_cannot_be_added_changed_or_deleted_in_the_admin(admin_client, campaign):
    app = ApplicationFactory(campaign=campaign)
    html = admin_client.get(f"/admin/subsidy/application/{app.pk}/change/").content.decode()
    assert 'name="_save"' not in html
    assert admin_client.get("/admin/subsidy/application/add/").status_code == 403
    response = admin_client.post(f"/admin/subsidy/application/{app.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
