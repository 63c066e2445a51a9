"""The inquiry register (职工诉求、建议登记, notice 六(一)): record, answer, list, export.
Scoping is `Inquiry.objects.visible_to(user)`; the union of a new inquiry must be in scope."""

from django.db import transaction
from django.db.models import Q

from notifications.models import Inquiry
from unions.models import Union


def unions_in_scope(user):
    reviewer = getattr(user, "reviewer", None)
    if reviewer is not None and reviewer.active:
        return reviewer.scope_unions()
    if user.is_superuser:
        return Union.objects.all()
    return Union.objects.none()


def may_use(user) -> bool:
    reviewer = getattr(user, "reviewer", None)
    return user.is_authenticated and (
        (reviewer is not None and reviewer.active) or user.is_superuser
    )


def filtered(user, status="", category="", union_id=None, q=""):
    qs = Inquiry.objects.visible_to(user).select_related("union", "recorded_by")
    if status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category=category)
    if union_id:
        qs = qs.filter(union_id=union_id)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(phone__contains=q) | Q(text__icontains=q))
    return qs


@transaction.atomic
def record(user, **fields) -> Inquiry:
    return Inquiry.objects.create(recorded_by=user, **fields)


@transaction.atomic
def update(inquiry, **fields) -> Inquiry:
    for k, v in fields.items():
        setattr(inquiry, k, v)
    inquiry.save()
    return inquiry
