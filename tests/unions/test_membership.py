"""Membership rules: joining and transfers need the receiving union admin's approval;
approval stamps active_since, which the membership deadline is compared with."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests.factories import MemberFactory, make_id_number
from unions.models import (
    JoinRequest,
    Member,
    MembershipEvent,
    MembershipStatus,
    RequestStatus,
    TransferRequest,
)
from unions.services import membership


def _register(tree, n=501, **overrides):
    data = dict(name="陈小明", id_number=make_id_number(n), mobile=f"1370000{n:04d}", union=tree.a1)
    data.update(overrides)
    return membership.register_member(**data)


@pytest.mark.django_db
def test_a_registered_person_is_pending_until_the_union_admin_approves(tree, reviewers):
    member = _register(tree)
    assert member.status == MembershipStatus.PENDING
    assert not member.is_active_member()
    req = JoinRequest.objects.get(member=member)
    before = timezone.now()
    membership.approve_join(req, by=reviewers.grassroots_a.user)
    member.refresh_from_db()
    req.refresh_from_db()
    assert member.status == MembershipStatus.ACTIVE
    assert member.active_since >= before
    assert member.is_active_member()
    assert (req.status, req.decided_by) == (RequestStatus.APPROVED, reviewers.grassroots_a.user)
    assert member.membership_events.get().kind == MembershipEvent.Kind.JOINED


@pytest.mark.django_db
def test_only_an_admin_of_the_union_may_approve_a_join(tree, reviewers):
    req = JoinRequest.objects.get(member=_register(tree))
    with pytest.raises(PermissionDenied):
        membership.approve_join(req, by=reviewers.grassroots_b.user)  # 海珠 union's admin
    with pytest.raises(PermissionDenied):
        membership.approve_join(req, by=reviewers.district_haizhu.user)
    req.refresh_from_db()
    assert req.status == RequestStatus.PENDING
    # the district admin above the union may approve
    membership.approve_join(req, by=reviewers.district_yuexiu.user)
    assert Member.objects.get(pk=req.member_id).status == MembershipStatus.ACTIVE


@pytest.mark.django_db
def test_a_decided_join_request_cannot_be_decided_again(tree, reviewers):
    req = JoinRequest.objects.get(member=_register(tree))
    membership.reject_join(req, by=reviewers.grassroots_a.user)
    with pytest.raises(ValidationError) as exc:
        membership.approve_join(req, by=reviewers.grassroots_a.user)
    assert exc.value.code == "request_decided"
    assert Member.objects.get(pk=req.member_id).status == MembershipStatus.PENDING


@pytest.mark.django_db
def test_membership_that_became_active_after_the_deadline_does_not_count(tree, reviewers):
    deadline = timezone.now() - timedelta(hours=1)
    req = JoinRequest.objects.get(member=_register(tree))
    member = membership.approve_join(req, by=reviewers.grassroots_a.user)
    assert member.is_active_member() is True
    assert member.is_active_member(deadline=deadline) is False
    early = MemberFactory(union=tree.a1, active_since=deadline - timedelta(days=1))
    assert early.is_active_member(deadline=deadline) is True


@pytest.mark.django_db
def test_a_transfer_moves_the_member_after_the_receiving_union_approves(tree, reviewers):
    member = MemberFactory(union=tree.a1)
    since = member.active_since
    transfer = membership.request_transfer(member, tree.b1)
    member.refresh_from_db()
    assert member.union == tree.a1  # nothing moves before approval
    with pytest.raises(PermissionDenied):
        membership.approve_transfer(transfer, by=reviewers.grassroots_a.user)  # sending side
    membership.approve_transfer(transfer, by=reviewers.grassroots_b.user)
    member.refresh_from_db()
    assert member.union == tree.b1
    assert member.status == MembershipStatus.ACTIVE
    assert member.active_since == since  # the membership continues
    event = member.membership_events.get(kind=MembershipEvent.Kind.TRANSFERRED)
    assert (event.from_union, event.to_union) == (tree.a1, tree.b1)
    assert TransferRequest.objects.get(pk=transfer.pk).status == RequestStatus.APPROVED


@pytest.mark.django_db
def test_a_transfer_goes_stale_when_the_member_moved_meanwhile(tree, reviewers):
    member = MemberFactory(union=tree.a1)
    first = membership.request_transfer(member, tree.b1)
    Member.objects.filter(pk=member.pk).update(union=tree.a2)  # e.g. fixed by city staff
    with pytest.raises(ValidationError) as exc:
        membership.approve_transfer(first, by=reviewers.grassroots_b.user)
    assert exc.value.code == "transfer_stale"
    member.refresh_from_db()
    assert member.union == tree.a2


@pytest.mark.django_db
def test_transfer_rules(tree):
    member = MemberFactory(union=tree.a1)
    with pytest.raises(ValidationError) as exc:
        membership.request_transfer(member, tree.a1)
    assert exc.value.code == "same_union"
    membership.request_transfer(member, tree.b1)
    with pytest.raises(ValidationError) as exc:
        membership.request_transfer(member, tree.a2)
    assert exc.value.code == "transfer_pending"
    pending = MemberFactory(union=tree.a1, status=MembershipStatus.PENDING, active_since=None)
    with pytest.raises(ValidationError) as exc:
        membership.request_transfer(pending, tree.b1)
    assert exc.value.code == "not_member"


@pytest.mark.django_db
def test_duplicate_id_number_is_a_clear_field_error_not_a_500(tree):
    _register(tree, n=601)
    with pytest.raises(ValidationError) as exc:
        _register(tree, n=602, id_number=make_id_number(601))
    errors = exc.value.error_dict
    assert errors["id_number"][0].code == "id_duplicate"
    assert "身份证号码" in errors["id_number"][0].messages[0]
    assert Member.objects.count() == 1


@pytest.mark.django_db
def test_duplicate_id_number_in_another_spelling_is_still_a_duplicate(tree):
    _register(tree, n=603)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in make_id_number(603))
    with pytest.raises(ValidationError) as exc:
        _register(tree, n=604, id_number=full_width)
    assert exc.value.error_dict["id_number"][0].code == "id_duplicate"


@pytest.mark.django_db
def test_registration_reports_every_bad_field_and_saves_nothing(tree):
    with pytest.raises(ValidationError) as exc:
        _register(tree, name=" ", id_number="440106199503070010", mobile="020-83001234")
    assert set(exc.value.error_dict) == {"name", "id_number", "mobile"}
    assert exc.value.error_dict["mobile"][0].code == "mobile_is_landline"
    assert not Member.objects.exists() and not JoinRequest.objects.exists()


@pytest.mark.django_db
def test_joining_an_unregistered_union_is_refused(tree):
    tree.a2.registered = False
    tree.a2.save()
    with pytest.raises(ValidationError) as exc:
        _register(tree, union=tree.a2)
    assert exc.value.error_dict["union"][0].code == "union_not_registered"
