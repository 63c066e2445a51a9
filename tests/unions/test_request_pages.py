"""The union admin's membership-request page: scoped to the unions they manage; someone
else's request id answers 404; decisions go through the membership services."""

import pytest

from tests.factories import MemberFactory, make_id_number
from unions.models import JoinRequest, Member, MembershipStatus, RequestStatus
from unions.services import membership


def _pending(tree, union, n):
    member = membership.register_member(
        name=f"申请人{n}", id_number=make_id_number(900 + n), mobile=f"1366600{n:04d}", union=union
    )
    return JoinRequest.objects.get(member=member)


@pytest.mark.django_db
def test_the_page_lists_only_requests_into_the_admins_unions(client, tree, reviewers):
    mine = _pending(tree, tree.a1, 1)
    _pending(tree, tree.b1, 2)
    client.force_login(reviewers.grassroots_a.user)
    html = client.get("/unions/requests/").content.decode()
    assert mine.member.name in html and "申请人2" not in html
    assert mine.member.id_number not in html and mine.member.masked_id_number in html


@pytest.mark.django_db
def test_approving_from_the_page_activates_the_member(client, tree, reviewers):
    req = _pending(tree, tree.a1, 3)
    client.force_login(reviewers.grassroots_a.user)
    response = client.post(f"/unions/requests/join/{req.pk}/approve/", follow=True)
    assert "已批准入会" in response.content.decode()
    member = Member.objects.get(pk=req.member_id)
    assert member.status == MembershipStatus.ACTIVE and member.active_since


@pytest.mark.django_db
def test_someone_elses_request_is_404_and_unchanged(client, tree, reviewers):
    other = _pending(tree, tree.b1, 4)
    client.force_login(reviewers.grassroots_a.user)
    assert client.post(f"/unions/requests/join/{other.pk}/approve/").status_code == 404
    other.refresh_from_db()
    assert other.status == RequestStatus.PENDING


@pytest.mark.django_db
def test_a_transfer_is_decided_by_the_receiving_union(client, tree, reviewers):
    member = MemberFactory(union=tree.a1)
    transfer = membership.request_transfer(member, tree.b1)
    client.force_login(reviewers.grassroots_a.user)  # the sending union's admin
    assert client.post(f"/unions/requests/transfer/{transfer.pk}/approve/").status_code == 404
    client.force_login(reviewers.grassroots_b.user)
    client.post(f"/unions/requests/transfer/{transfer.pk}/approve/")
    member.refresh_from_db()
    assert member.union == tree.b1


@pytest.mark.django_db
def test_a_second_decision_is_a_chinese_message_not_an_error(client, tree, reviewers):
    req = _pending(tree, tree.a1, 5)
    client.force_login(reviewers.grassroots_a.user)
    client.post(f"/unions/requests/join/{req.pk}/reject/")
    response = client.post(f"/unions/requests/join/{req.pk}/approve/", follow=True)
    assert response.status_code == 200
    assert "该入会申请已处理" in response.content.decode()


@pytest.mark.django_db
def test_applicants_and_anonymous_users_cannot_open_the_page(client, tree, member):
    assert client.get("/unions/requests/").status_code == 302  # to the login page
    client.force_login(member.user)
    assert client.get("/unions/requests/").status_code == 404
