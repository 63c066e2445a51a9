"""The inquiry register (职工诉求、建议登记, notice 六(一)): record, answer, list, export.
Scoping is `Inquiry.objects.visible_to(user)`; the union of a new inquiry must be in scope."""

from django.db import transaction
from django.db.models import Q

from notifications.models import Inquiry
from unions.models import Union
from unions.pii import scrub


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
    return Inquiry.objects.create(recorded_by=user, **_scrubbed(fields))


@transaction.atomic
def update(inquiry, **fields) -> Inquiry:
    for k, v in _scrubbed(fields).items():
        setattr(inquiry, k, v)
    inquiry.save()
    return inquiry


# The clerk's free text (what the caller asked, the answer given) is listed and exported: an
# ID or card number written into it is kept masked (SPEC §12).
_FREE_TEXT = ("name", "text", "answer")  # a name box gets ID numbers typed in, too


def _scrubbed(fields: dict) -> dict:
    return {k: scrub(v) if k in _FREE_TEXT and isinstance(v, str) else v for k, v in fields.items()}
