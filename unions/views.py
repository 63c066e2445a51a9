"""Membership requests for union admins: approve or reject joins and transfers into the
unions they manage. Thin views: the scoping and the rules live in unions.services.membership."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from unions.models import RequestStatus
from unions.services import membership

ACTIONS = {
    ("join", "approve"): (membership.join_requests_for, membership.approve_join, "已批准入会"),
    ("join", "reject"): (membership.join_requests_for, membership.reject_join, "已拒绝入会申请"),
    ("transfer", "approve"): (
        membership.transfer_requests_for,
        membership.approve_transfer,
        "已批准会籍转移",
    ),
    ("transfer", "reject"): (
        membership.transfer_requests_for,
        membership.reject_transfer,
        "已拒绝会籍转移",
    ),
}


def _require_union_admin(user):
    if not membership.administered_unions(user).exists():
        raise Http404


@login_required
def request_list(request):
    _require_union_admin(request.user)
    pending = RequestStatus.PENDING
    return render(
        request,
        "unions/requests.html",
        {
            "joins": membership.join_requests_for(request.user)
            .filter(status=pending)
            .order_by("requested_at"),
            "transfers": membership.transfer_requests_for(request.user)
            .filter(status=pending)
            .order_by("requested_at"),
        },
    )


@login_required
@require_POST
def decide(request, kind, pk, action):
    try:
        scoped, service, done = ACTIONS[(kind, action)]
    except KeyError:
        raise Http404
    req = get_object_or_404(scoped(request.user), pk=pk)  # outside the scope: 404
    try:
        service(req, by=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{done}：{req.member.name}")
    return redirect("unions:requests")
