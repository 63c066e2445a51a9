"""The reviewers' pages (Django templates + htmx): queue, detail, decisions, PII reveal,
export, reviewer management. Thin: parse → one service → render. Every application is loaded
through `Application.objects.visible_to(user)`; outside the scope is 404."""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from registry.rules import OUTCOME_LABELS
from reviews.export import export_xlsx
from reviews.forms import DecisionForm, ReviewerForm
from reviews.models import AuditRecord
from reviews.services import decisions, pii, queue, reviewers
from subsidy.models import (
    PENDING_FOR_LEVEL,
    PRIORITY_WORKER_GROUPS,
    REGISTRY_CHECK_STATUSES,
    Application,
    ApplicationStatus,
    Campaign,
    WorkerGroup,
)
from subsidy.request_context import client_ip
from unions.models import ReviewerLevel

PAGE_SIZES = (20, 50, 100)

# Responses with whole ID or account numbers (the detail page, a reveal, the export) carry
# `never_cache` (Cache-Control: no-cache, no-store, must-revalidate, private): no browser,
# proxy or back button keeps a copy.


def reviewer_required(view):
    """Signed-in reviewers only; anyone else signed in gets 404 (no hint the page exists)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(
                f"{reverse('reviews:login')}?{urlencode({'next': request.get_full_path()})}"
            )
        if decisions.reviewer_level(request.user) is None:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _scoped_or_404(request, pk, *related):
    app = (
        Application.objects.visible_to(request.user)
        .select_related("campaign", "union", *related)
        .filter(pk=pk)
        .first()
    )
    if app is None:
        raise Http404
    return app


def _page_size(request):
    raw = request.GET.get("per_page") or ""
    return int(raw) if raw.isascii() and raw.isdigit() and int(raw) in PAGE_SIZES else PAGE_SIZES[0]


@require_GET
@reviewer_required
def dashboard(request):
    level = decisions.reviewer_level(request.user)
    filters = queue.QueueFilters.from_params(request.GET)
    rows, counts = queue.queue(request.user, filters, level)
    page = Paginator(rows, _page_size(request)).get_page(request.GET.get("page"))
    now = timezone.now()
    for app in page.object_list:
        app.overdue = queue.is_overdue(app, now)
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "level": level,
        "is_grassroots": level == ReviewerLevel.GRASSROOTS,
        "filters": filters,
        "page": page,
        "counts": queue.status_counts_list(counts, level),
        "total": sum(counts.values()),
        "campaigns": Campaign.objects.order_by("-year"),
        "worker_groups": [(g.value, g.label, g in PRIORITY_WORKER_GROUPS) for g in WorkerGroup],
        "scope_unions": request.user.reviewer.scope_unions().order_by("path")
        if level != ReviewerLevel.GRASSROOTS
        else [],
        "query": params.urlencode(),
        "my_status": PENDING_FOR_LEVEL[level],
        "can_manage": reviewers.can_manage(request.user),
        "review_open": filters.campaign.review_open(level) if filters.campaign else False,
        "deadline": filters.campaign.review_deadline(level) if filters.campaign else None,
        "per_page": _page_size(request),
        "page_sizes": PAGE_SIZES,
    }
    template = "reviews/_queue.html" if request.htmx else "reviews/dashboard.html"
    return render(request, template, context)


@never_cache
@require_GET
@reviewer_required
def detail(request, pk):
    app = _scoped_or_404(request, pk, "member", "member__union", "commitment")
    decisions.mark_opened(request.user, app)
    level = decisions.reviewer_level(request.user)
    return render(request, "reviews/detail.html", _detail_context(request, app, level))


def _detail_context(request, app, level, form=None, error=None):
    history = list(AuditRecord.objects.filter(application=app).order_by("seq"))
    for r in history:
        r.from_label = _label(r.from_status)
        r.to_label = _label(r.to_status)
    return {
        "app": app,
        "level": level,
        "is_grassroots": level == ReviewerLevel.GRASSROOTS,
        "can_decide": app.status == PENDING_FOR_LEVEL[level],
        "review_open": app.campaign.review_open(level),
        "deadline": app.campaign.review_deadline(level),
        "overdue": queue.is_overdue(app),
        "registry": app.registry_record or {},
        "registry_outcome_label": OUTCOME_LABELS.get(app.registry_outcome, ""),
        "registry_stage": app.status in REGISTRY_CHECK_STATUSES,
        "history": history,
        "form": form or DecisionForm(initial={"expected_status": app.status}),
        "error": error,
        "is_priority": app.is_priority_group,
    }


@never_cache  # a refused decision answers with the detail page
@require_POST
@reviewer_required
def decide(request, pk):
    app = _scoped_or_404(request, pk)
    level = decisions.reviewer_level(request.user)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        app = _scoped_or_404(request, pk, "member", "member__union")
        ctx = _detail_context(request, app, level, form=form)
        return render(request, "reviews/detail.html", ctx, status=400)
    data = form.cleaned_data
    try:
        if data["decision"] == "approve":
            decisions.approve(
                request.user,
                pk,
                confirm_employed=data["confirm_employed"],
                expected_status=data["expected_status"] or None,
            )
            messages.success(request, f"#{app.queue_number} {app.name}：已审核通过")
        else:
            decisions.reject(
                request.user,
                pk,
                reason=data["reason"],
                expected_status=data["expected_status"] or None,
            )
            messages.success(request, f"#{app.queue_number} {app.name}：已审核不通过")
    except decisions.NotInScope:
        raise Http404
    except decisions.DecisionError as exc:
        app = _scoped_or_404(request, pk, "member", "member__union")
        ctx = _detail_context(request, app, level, form=form, error=exc)
        return render(request, "reviews/detail.html", ctx, status=exc.status_code)
    return redirect(f"{reverse('reviews:dashboard')}?status={PENDING_FOR_LEVEL[level]}")


@require_POST
@reviewer_required
def batch_approve(request):
    ids = [i for i in request.POST.getlist("ids") if i.isascii() and i.isdigit()]
    if not ids:
        messages.error(request, "请先勾选要批量通过的申领")
        return redirect(reverse("reviews:dashboard"))
    try:
        result = decisions.batch_approve(
            request.user, ids, confirm_employed=request.POST.get("confirm_employed") == "on"
        )
    except decisions.DecisionError as exc:
        messages.error(request, exc.detail)
        return redirect(reverse("reviews:dashboard"))
    if result.approved:
        messages.success(request, f"已批量审核通过 {len(result.approved)} 条申领")
    for _pk, number, message in result.refused:
        label = f"#{number}" if number else "该申领"
        messages.error(request, f"{label} 未通过：{message}")
    return redirect(reverse("reviews:dashboard"))


@never_cache
@require_POST
@reviewer_required
def reveal(request, pk, field):
    try:
        value = pii.reveal(request.user, pk, field, client_ip(request))
    except (Application.DoesNotExist, pii.NotRevealable):
        raise Http404
    return HttpResponse(f'<span class="revealed">{_escape(value)}</span>')


def _label(code):
    try:
        return ApplicationStatus(code).label
    except ValueError:
        return code


def _escape(value):
    from django.utils.html import escape

    return escape(value)


@never_cache
@require_GET
@reviewer_required
def export(request):
    level = decisions.reviewer_level(request.user)
    filters = queue.QueueFilters.from_params(request.GET)
    rows, _counts = queue.queue(request.user, filters, level, with_counts=False)
    content = export_xlsx(rows)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="applications-{stamp}.xlsx"'
    return response


def manager_required(view):
    @wraps(view)
    @reviewer_required_any
    def wrapper(request, *args, **kwargs):
        if not reviewers.can_manage(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def reviewer_required_any(view):
    """Signed-in and holding any active reviewer profile (a manager may lack review rights)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(
                f"{reverse('reviews:login')}?{urlencode({'next': request.get_full_path()})}"
            )
        return view(request, *args, **kwargs)

    return wrapper


@manager_required
def reviewer_list(request):
    form = ReviewerForm()
    unions = list(reviewers.manager_unions(request.user))
    status = 200
    if request.method == "POST":
        form = ReviewerForm(request.POST)
        if form.is_valid():
            try:
                profile = reviewers.add_reviewer(
                    request.user,
                    union_ids=request.POST.getlist("unions"),
                    **form.cleaned_data,
                )
                messages.success(request, f"已新增审核员：{profile.name}")
                return redirect(reverse("reviews:reviewers"))
            except reviewers.ReviewerError as exc:
                form.add_error(None, exc.detail)
        status = 400
    context = {
        "form": form,
        "unions": unions,
        "selected": set(request.POST.getlist("unions")),
        "reviewers": reviewers.reviewers_of(request.user),
    }
    return render(request, "reviews/reviewers.html", context, status=status)


@require_POST
@manager_required
def reviewer_remove(request, pk):
    try:
        profile = reviewers.remove_reviewer(request.user, pk)
    except reviewers.ReviewerError as exc:
        if exc.code == "not_found":
            raise Http404
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"已删除审核员：{profile.name}")
    return redirect(reverse("reviews:reviewers"))
