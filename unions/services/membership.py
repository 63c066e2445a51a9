"""Membership use cases: registering a member, joining a union and moving between unions.

Joining (实名入会) and transfers (会籍转移) take effect only when the receiving union's admin
approves. Approval stamps `active_since`, which the entry check compares with the campaign's
membership deadline (a member who became active after it is `not_member`).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from unions.models import (
    JoinRequest,
    Member,
    MembershipEvent,
    MembershipStatus,
    RequestStatus,
    TransferRequest,
    Union,
)
from unions.pii import blind_index
from unions.validators import clean_id_number, clean_mobile, normalise_input


def can_administer(user, union: Union) -> bool:
    """The union's admin: city staff (superusers or city reviewers), or an active reviewer
    whose scope contains the union (grassroots: the unions they manage; district and industry:
    their subtrees)."""
    return administered_unions(user).filter(pk=union.pk).exists()


def _require_admin(user, union):
    if not can_administer(user, union):
        raise PermissionDenied(f"您不是「{union.name}」的管理员，不能审批")


def register_member(*, name: str, id_number: str, mobile: str, union: Union, user=None):
    """A person registers with their real name and asks to join `union`: a pending Member and
    a pending JoinRequest. Bad or duplicate identity data raise a ValidationError keyed by
    field, with a Chinese message and a code; nothing is saved then."""
    errors = {}
    name = normalise_input(name)
    if not name:
        errors["name"] = ValidationError("请填写姓名", code="name_required")
    try:
        id_number = clean_id_number(id_number)
    except ValidationError as exc:
        errors["id_number"] = exc
    try:
        mobile = clean_mobile(mobile)
    except ValidationError as exc:
        errors["mobile"] = exc
    if "id_number" not in errors and Member.objects.by_id_number(id_number).exists():
        errors["id_number"] = ValidationError("该身份证号码已登记为会员", code="id_duplicate")
    if "mobile" not in errors and Member.objects.filter(mobile=mobile).exists():
        errors["mobile"] = ValidationError("该手机号码已被其他会员使用", code="mobile_duplicate")
    if not union.registered:
        errors["union"] = ValidationError(
            f"「{union.name}」尚未在平台注册，不能申请加入", code="union_not_registered"
        )
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            member = Member.objects.create(
                name=name,
                id_number=id_number,
                mobile=mobile,
                union=union,
                status=MembershipStatus.PENDING,
                user=user,
            )
            JoinRequest.objects.create(member=member, union=union)
    except IntegrityError:
        # Two registrations of the same person at the same moment: the blind index's
        # unique constraint decided; report it like the check above.
        if Member.objects.filter(id_hmac=blind_index(id_number)).exists():
            raise ValidationError(
                {"id_number": ValidationError("该身份证号码已登记为会员", code="id_duplicate")}
            )
        raise ValidationError(
            {"mobile": ValidationError("该手机号码已被其他会员使用", code="mobile_duplicate")}
        )
    return member


@transaction.atomic
def request_join(member: Member, union: Union) -> JoinRequest:
    """A member without an active membership asks to join a union."""
    if member.status == MembershipStatus.ACTIVE:
        raise ValidationError("您已是有效会员；如需更换工会，请申请会籍转移", code="already_member")
    if member.join_requests.filter(status=RequestStatus.PENDING).exists():
        raise ValidationError("已有待审批的入会申请", code="join_pending")
    return JoinRequest.objects.create(member=member, union=union)


def _locked(model, pk):
    return model.objects.select_for_update().select_related("member").get(pk=pk)


@transaction.atomic
def approve_join(join_request: JoinRequest, *, by) -> Member:
    """The union admin approves: the member is active in that union from now."""
    req = _locked(JoinRequest, join_request.pk)
    _require_admin(by, req.union)
    if req.status != RequestStatus.PENDING:
        raise ValidationError("该入会申请已处理", code="request_decided")
    now = timezone.now()
    member = Member.objects.select_for_update().get(pk=req.member_id)
    member.union = req.union
    member.status = MembershipStatus.ACTIVE
    member.active_since = now
    member.save(update_fields=["union", "status", "active_since"])
    req.decide(RequestStatus.APPROVED, by, at=now)
    MembershipEvent.objects.create(
        member=member, kind=MembershipEvent.Kind.JOINED, to_union=req.union, at=now, by=by
    )
    return member


@transaction.atomic
def reject_join(join_request: JoinRequest, *, by) -> JoinRequest:
    req = _locked(JoinRequest, join_request.pk)
    _require_admin(by, req.union)
    if req.status != RequestStatus.PENDING:
        raise ValidationError("该入会申请已处理", code="request_decided")
    req.decide(RequestStatus.REJECTED, by)
    return req


@transaction.atomic
def request_transfer(member: Member, to_union: Union) -> TransferRequest:
    """会籍转移: an active member asks to move to another union."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.status != MembershipStatus.ACTIVE:
        raise ValidationError("只有有效会员可以申请会籍转移", code="not_member")
    if member.union_id == to_union.pk:
        raise ValidationError("转入工会与当前工会相同", code="same_union")
    if not to_union.registered:
        raise ValidationError(
            f"「{to_union.name}」尚未在平台注册，不能转入", code="union_not_registered"
        )
    if member.transfer_requests.filter(status=RequestStatus.PENDING).exists():
        raise ValidationError("已有待审批的会籍转移申请", code="transfer_pending")
    return TransferRequest.objects.create(member=member, from_union=member.union, to_union=to_union)


@transaction.atomic
def approve_transfer(transfer: TransferRequest, *, by) -> Member:
    """The receiving union's admin approves: the member moves, the membership continues
    (its `active_since` is kept), and the move is written to the membership history."""
    req = _locked(TransferRequest, transfer.pk)
    _require_admin(by, req.to_union)
    if req.status != RequestStatus.PENDING:
        raise ValidationError("该会籍转移申请已处理", code="request_decided")
    member = Member.objects.select_for_update().get(pk=req.member_id)
    if member.status != MembershipStatus.ACTIVE or member.union_id != req.from_union_id:
        raise ValidationError(
            "会员的当前工会已变化，该转移申请已失效，请重新申请", code="transfer_stale"
        )
    now = timezone.now()
    member.union = req.to_union
    member.save(update_fields=["union"])
    req.decide(RequestStatus.APPROVED, by, at=now)
    MembershipEvent.objects.create(
        member=member,
        kind=MembershipEvent.Kind.TRANSFERRED,
        from_union=req.from_union,
        to_union=req.to_union,
        at=now,
        by=by,
    )
    return member


@transaction.atomic
def reject_transfer(transfer: TransferRequest, *, by) -> TransferRequest:
    req = _locked(TransferRequest, transfer.pk)
    _require_admin(by, req.to_union)
    if req.status != RequestStatus.PENDING:
        raise ValidationError("该会籍转移申请已处理", code="request_decided")
    req.decide(RequestStatus.REJECTED, by)
    return req


def administered_unions(user):
    """The unions whose membership requests this user decides (the one scoping door for the
    request pages): everything for city staff, the reviewer's scope otherwise."""
    if user is None or not user.is_authenticated:
        return Union.objects.none()
    if user.is_superuser:
        return Union.objects.all()
    reviewer = getattr(user, "reviewer", None)
    if reviewer is None or not reviewer.active:
        return Union.objects.none()
    return reviewer.scope_unions()


def join_requests_for(user):
    return JoinRequest.objects.filter(union__in=administered_unions(user)).select_related(
        "member", "union"
    )


def transfer_requests_for(user):
    return TransferRequest.objects.filter(to_union__in=administered_unions(user)).select_related(
        "member", "from_union", "to_union"
    )
