"""Review decisions: approve or reject one application at the reviewer's level, and batch
approval of rows the reviewer has opened (SPEC §6, notice attachments 2 and 3).

Concurrency (SPEC §6 "exactly one wins"): the decision runs in one transaction that locks the
application row (SELECT … FOR UPDATE) before checking its state, so a second reviewer acting
at the same moment waits, then finds the state changed and gets `DecisionError(conflict)`
(HTTP 409) with the current status. django-fsm's ConcurrentTransitionMixin is the second
guard: the UPDATE only matches the state the row was read in. Nothing slow happens inside the
lock: the audit append (same transaction) and the notifications/allocation hooks run off
django-fsm's post_transition signal or after commit.

The test hook `review_locking` off (testhooks; control tests only) switches both guards off so
the concurrency test's control case can show the silent overwrite they prevent.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition, has_transition_perm

import testhooks
from reviews.models import OpenedApplication
from subsidy import codes
from subsidy.conflicts import is_own_application
from subsidy.models import (
    PENDING_FOR_LEVEL,
    REGISTRY_CHECK_STATUSES,
    Application,
    ApplicationStatus,
)
from unions.models import ReviewerLevel, reviewer_level
from unions.validators import clean_free_text

REASON_MAX_LENGTH = 500
_LEVEL_ORDER = [ReviewerLevel.GRASSROOTS, ReviewerLevel.DISTRICT, ReviewerLevel.CITY]
_TRANSITIONS = {
    (ReviewerLevel.GRASSROOTS, "approve"): "grassroots_approve",
    (ReviewerLevel.GRASSROOTS, "reject"): "grassroots_reject",
    (ReviewerLevel.DISTRICT, "approve"): "district_approve",
    (ReviewerLevel.DISTRICT, "reject"): "district_reject",
    (ReviewerLevel.CITY, "approve"): "city_approve",
    (ReviewerLevel.CITY, "reject"): "city_reject",
}
# Fields the transitions write; the unprotected (control) path writes exactly these.
_DECISION_FIELDS = [
    "status",
    "rejection_reason",
    "confirmed_employed",
    "grassroots_decided_at",
    "district_decided_at",
    "city_approved_at",
]


@dataclass
class DecisionError(Exception):
    """A refused decision: a machine code, a Chinese message and the HTTP status to answer."""

    code: str
    detail: str = ""
    status_code: int | None = None  # the code's (subsidy.codes)
    current_status: str | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        self.detail = self.detail or codes.text(self.code)
        self.status_code = codes.check_status(self.code, self.status_code)

    def __str__(self):
        return self.detail

    @property
    def current_status_label(self) -> str:
        return ApplicationStatus(self.current_status).label if self.current_status else ""


class NotInScope(Exception):
    """The application does not exist or is outside the reviewer's scope: answer 404."""


def approve(user, application_id, *, confirm_employed=False, expected_status=None):
    return _decide(user, application_id, "approve", "", confirm_employed, expected_status)


def reject(user, application_id, *, reason="", expected_status=None):
    return _decide(user, application_id, "reject", reason, False, expected_status)


def _check_input(level, action, reason, confirm_employed) -> str:
    """Refuse what the decision's own input does not allow; return the reason, cleaned (free
    text is stored, exported, logged and sent to the applicant: an ID or card number typed
    into it is kept masked, SPEC §12)."""
    try:
        reason = clean_free_text(reason)
    except ValidationError as exc:
        raise DecisionError(exc.code, exc.messages[0])
    if action == "reject":
        if not reason:
            raise DecisionError("reason_required", "审核不通过时必须填写审核不通过原因")
        if len(reason) > REASON_MAX_LENGTH:
            raise DecisionError(
                "reason_too_long", f"审核不通过原因不能超过 {REASON_MAX_LENGTH} 个字"
            )
    if action == "approve" and level == ReviewerLevel.GRASSROOTS and not confirm_employed:
        raise DecisionError(
            "confirm_employed_required", "请先勾选“确认在职职工”，确认申领人为本单位在职职工"
        )
    return reason


def _check_state(app, level, expected_status):
    """Refuse a decision the application's current state does not allow at this level."""
    mine = PENDING_FOR_LEVEL[level]
    if expected_status and expected_status != app.status:
        raise _changed(app)
    if app.status == mine:
        return
    if app.status in REGISTRY_CHECK_STATUSES:
        # Notice attachment 3: district and city list and open these rows, never decide them.
        raise DecisionError(
            "registry_check_read_only",
            f"该申领当前为“{app.get_status_display()}”，学历接口校核阶段的申领只能查看，不能审核",
            status_code=403,
            current_status=app.status,
        )
    earlier = [PENDING_FOR_LEVEL[lv] for lv in _LEVEL_ORDER[: _LEVEL_ORDER.index(level)]]
    if app.status in earlier:
        raise DecisionError(
            "wrong_level",
            f"该申领当前为“{app.get_status_display()}”，尚未到本级（{ReviewerLevel(level).label}）审核",
            status_code=403,
            current_status=app.status,
        )
    raise _changed(app)


def _changed(app):
    return DecisionError(
        "conflict",
        f"该申领的状态已变更为“{app.get_status_display()}”，本次操作未执行，请刷新后查看",
        status_code=409,
        current_status=app.status,
    )


def _check_window(app, level):
    campaign = app.campaign
    if not campaign.review_open(level):
        deadline = campaign.review_deadline(level)
        raise DecisionError(
            "review_closed",
            f"不在本级审核时间内（{_local(campaign.opens_at)} 至 {_local(deadline)}），"
            "无法提交审核结果",
            status_code=403,
        )


def _local(dt):
    return f"{timezone.localtime(dt):%Y-%m-%d %H:%M}"


def _decide(user, application_id, action, reason, confirm_employed, expected_status):
    level = reviewer_level(user)
    if level is None:
        raise NotInScope()
    locking = testhooks.on("review_locking")
    try:
        with transaction.atomic():
            qs = Application.objects.visible_to(user).select_related("campaign")
            if locking:
                qs = qs.select_for_update(of=("self",))
            app = qs.filter(pk=application_id).first()
            if app is None or is_own_application(user, app):
                # The one door already hides a reviewer's own application; asked again here
                # on the locked row, so no route around the door can decide it (SPEC §2).
                raise NotInScope()
            reason = _check_input(level, action, reason, bool(confirm_employed))
            _check_state(app, level, expected_status)
            _check_window(app, level)
            name = _TRANSITIONS[(level, action)]
            method = getattr(app, name)
            if not has_transition_perm(method, user):
                raise DecisionError("permission_denied", "您没有审核该申领的权限", 403)
            testhooks.pause("review_delay")  # both racers inside the decision at once
            method(by=user, reason=reason)
            if locking:
                app.save()
            else:
                Application.objects.filter(pk=app.pk).update(
                    **{f: getattr(app, f) for f in _DECISION_FIELDS}
                )
    except ConcurrentTransition:
        current = Application.objects.filter(pk=application_id).first()
        raise _changed(current)
    return app


@dataclass
class BatchResult:
    approved: list = field(default_factory=list)  # applications
    refused: list = field(default_factory=list)  # (application id, queue number or None, message)


def batch_approve(user, application_ids, *, confirm_employed=False) -> BatchResult:
    """Approve each selected row this reviewer has opened; report every other row back.
    Each row is its own transaction, so one refusal does not undo the others."""
    level = reviewer_level(user)
    if level is None:
        raise NotInScope()
    _check_input(level, "approve", "", bool(confirm_employed))
    ids = sorted({int(i) for i in application_ids})
    visible = dict(
        Application.objects.visible_to(user).filter(pk__in=ids).values_list("pk", "queue_number")
    )
    opened = set(
        OpenedApplication.objects.filter(user=user, application_id__in=ids).values_list(
            "application_id", flat=True
        )
    )
    result = BatchResult()
    for pk in ids:
        if pk not in visible:
            result.refused.append((pk, None, "未找到该申领"))
            continue
        if pk not in opened:
            result.refused.append((pk, visible[pk], "尚未打开查看详情，不能批量通过"))
            continue
        try:
            result.approved.append(approve(user, pk, confirm_employed=confirm_employed))
        except DecisionError as exc:
            result.refused.append((pk, visible[pk], exc.detail))
        except NotInScope:
            result.refused.append((pk, visible[pk], "未找到该申领"))
    return result


def mark_opened(user, application) -> None:
    OpenedApplication.objects.update_or_create(user=user, application=application)
