"""A grassroots admin adds and removes the reviewers of its unions (attachment 2 §三)."""

import pytest

from tests.factories import ReviewerFactory
from unions.models import ReviewerProfile


@pytest.fixture
def manager(reviewers, tree):
    profile = reviewers.grassroots_a
    profile.can_manage_reviewers = True
    profile.save()
    profile.managed_unions.add(tree.a2)
    return profile


def test_admin_adds_a_reviewer_for_its_union_who_can_then_sign_in(client, manager, tree):
    client.force_login(manager.user)
    r = client.post(
        "/review/reviewers/",
        {"name": "陈审核", "phone": "13912345678", "can_review": "on", "unions": [tree.a2.pk]},
    )
    assert r.status_code == 302
    new = ReviewerProfile.objects.get(phone="13912345678")
    assert new.level == "grassroots" and new.can_review and not new.can_manage_reviewers
    assert list(new.managed_unions.all()) == [tree.a2]
    assert new.created_by == manager.user
    from subsidy.services.otp import user_for_phone

    assert user_for_phone("13912345678") == new.user


def test_admin_cannot_add_a_reviewer_for_a_union_it_does_not_manage(client, manager, tree):
    client.force_login(manager.user)
    r = client.post(
        "/review/reviewers/",
        {"name": "陈审核", "phone": "13912345678", "can_review": "on", "unions": [tree.b1.pk]},
    )
    assert r.status_code == 400 and "只能为本人管理的工会" in r.content.decode()
    assert not ReviewerProfile.objects.filter(phone="13912345678").exists()


@pytest.mark.parametrize(
    "data,message",
    [
        ({"name": "陈", "phone": "12345", "can_review": "on"}, "手机"),
        ({"name": "陈", "phone": "13912345678"}, "至少设置一项权限"),
        ({"name": "陈", "phone": "13912345678", "can_review": "on", "unions": []}, "请勾选"),
    ],
)
def test_bad_input_gets_a_chinese_message(client, manager, data, message):
    client.force_login(manager.user)
    r = client.post("/review/reviewers/", data)
    assert r.status_code == 400 and message in r.content.decode()


def test_admin_removes_a_reviewer_of_its_union(client, manager, tree):
    other = ReviewerFactory(level="grassroots", unions=[tree.a1])
    client.force_login(manager.user)
    assert other.name in client.get("/review/reviewers/").content.decode()
    assert client.post(f"/review/reviewers/{other.pk}/remove/").status_code == 302
    other.refresh_from_db()
    assert not other.active


def test_removal_keeps_the_reviewers_other_unions(client, manager, tree):
    other = ReviewerFactory(level="grassroots", unions=[tree.a1, tree.b1])
    client.force_login(manager.user)
    client.post(f"/review/reviewers/{other.pk}/remove/")
    other.refresh_from_db()
    assert other.active and list(other.managed_unions.all()) == [tree.b1]


def test_reviewer_of_another_union_cannot_be_removed(client, manager, reviewers):
    client.force_login(manager.user)
    r = client.post(f"/review/reviewers/{reviewers.grassroots_b.pk}/remove/")
    assert r.status_code == 404
    reviewers.grassroots_b.refresh_from_db()
    assert reviewers.grassroots_b.active


@pytest.mark.parametrize("role", ["grassroots_b", "district_yuexiu", "city"])
def test_reviewers_without_the_manage_permission_get_404(client, reviewers, role):
    client.force_login(getattr(reviewers, role).user)
    assert client.get("/review/reviewers/").status_code == 404


def test_applicant_gets_404(client, member):
    client.force_login(member.user)
    assert client.get("/review/reviewers/").status_code == 404
