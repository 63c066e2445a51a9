"""Reviewer management by a grassroots admin (notice attachment 2 §三): list, add and remove
the reviewers of the unions it manages. District and industry admins come from the roster
import (unions app), not from here."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from subsidy import codes
from unions.models import Member, ReviewerLevel, ReviewerProfile
from unions.validators import clean_mobile, normalise_input


@dataclass
class ReviewerError(Exception):
    code: str
    detail: str = ""

    def __post_init__(self):
        self.detail = self.detail or codes.text(self.code)

    def __str__(self):
        return self.detail


def can_manage(user) -> bool:
    reviewer = getattr(user, "reviewer", None)
    return bool(
        reviewer is not None
        and reviewer.active
        and reviewer.can_manage_reviewers
        and reviewer.level == ReviewerLevel.GRASSROOTS
    )


def manager_unions(manager_user):
    return manager_user.reviewer.managed_unions.order_by("name")


def reviewers_of(manager_user):
    """Active grassroots reviewers sharing at least one union with the manager."""
    unions = manager_unions(manager_user)
    return (
        ReviewerProfile.objects.filter(
            level=ReviewerLevel.GRASSROOTS, active=True, managed_unions__in=unions
        )
        .distinct()
        .prefetch_related("managed_unions")
        .order_by("name", "pk")
    )


@transaction.atomic
def add_reviewer(manager_user, *, name, phone, can_review, can_manage_reviewers, union_ids):
    name = normalise_input(name)
    if not name:
        raise ReviewerError("name_required", "请填写审核员姓名")
    if len(name) > 50:
        raise ReviewerError("name_too_long", "姓名不能超过 50 个字")
    try:
        phone = clean_mobile(phone)
    except ValidationError as exc:
        raise ReviewerError(exc.code or "mobile_invalid", exc.messages[0])
    if not (can_review or can_manage_reviewers):
        raise ReviewerError("permission_required", "请至少设置一项权限（审核 / 管理审核员）")
    allowed = {u.pk: u for u in manager_unions(manager_user)}
    ids = {int(i) for i in union_ids if str(i).isascii() and str(i).isdigit()}
    if not ids:
        raise ReviewerError("union_required", "请勾选该审核员管理的工会")
    if not ids <= set(allowed):
        raise ReviewerError("union_not_managed", "只能为本人管理的工会添加审核员")
    existing = ReviewerProfile.objects.filter(phone=phone, active=True).first()
    if existing is not None:
        raise ReviewerError("reviewer_exists", "该手机号已是审核员")
    # The person signs in by SMS code with this mobile: reuse their member account if any.
    User = get_user_model()
    member = Member.objects.select_related("user").filter(mobile=phone).first()
    user = member.user if member is not None and member.user_id else None
    if user is None:
        user, _ = User.objects.get_or_create(username=phone)
    profile = ReviewerProfile.objects.filter(user=user).first()
    if profile is not None and profile.active:
        raise ReviewerError("reviewer_exists", "该账号已是审核员")
    if profile is not None and profile.level != ReviewerLevel.GRASSROOTS:
        raise ReviewerError("reviewer_exists", "该账号已是其他层级的审核员")
    if profile is None:
        profile = ReviewerProfile(user=user, level=ReviewerLevel.GRASSROOTS)
    profile.name = name
    profile.phone = phone
    profile.can_review = bool(can_review)
    profile.can_manage_reviewers = bool(can_manage_reviewers)
    profile.active = True
    if member is not None:
        profile.member = member  # the same person: their own application stays hidden
    profile.created_by = manager_user
    profile.save()
    profile.managed_unions.set([allowed[i] for i in ids])
    if member is not None and member.user_id is None:
        Member.objects.filter(pk=member.pk, user__isnull=True).update(user=user)
    return profile


@transaction.atomic
def remove_reviewer(manager_user, reviewer_id):
    """Take the manager's unions away from the reviewer; with none left the account is
    disabled (kept, because the audit trail refers to it)."""
    in_scope = reviewers_of(manager_user).values("pk")
    profile = ReviewerProfile.objects.filter(pk__in=in_scope, pk=reviewer_id).first()
    if profile is None:
        raise ReviewerError("not_found", "未找到该审核员")
    if profile.user_id == manager_user.pk:
        raise ReviewerError("cannot_remove_self", "不能删除本人的审核员账号")
    mine = list(manager_unions(manager_user))
    profile.managed_unions.remove(*mine)
    if not profile.managed_unions.exists():
        profile.active = False
        profile.save(update_fields=["active"])
    return profile
