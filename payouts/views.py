"""Payout pages: the city staff's dashboard and actions, and the public list (公示).

Thin: each view parses its input, calls one service and renders or redirects.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from payouts.models import PaymentBatch
from payouts.services import allocation, payment, public_list, publication, revocation
from payouts.services.dashboard import campaign_overview
from payouts.services.errors import PayoutError, is_city_staff
from payouts.services.ledger import load_dataset
from payouts.services.reconciliation import batch_summary
from subsidy.models import RANK_ORDER, Application, ApplicationStatus, Campaign
from subsidy.request_context import current_ip


def city_staff_required(view):
    """City staff only; anyone else signed in gets 404 (outside their scope)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_city_staff(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _run(request, fn, success):
    try:
        result = fn()
    except PayoutError as exc:
        messages.error(request, exc.message)
        return None
    messages.success(request, success(result) if callable(success) else success)
    return result


@city_staff_required
def dashboard(request):
    campaign_id = request.GET.get("campaign")
    campaign = (
        get_object_or_404(Campaign, pk=campaign_id)
        if campaign_id and campaign_id.isascii() and campaign_id.isdigit()
        else Campaign.current()
    )
    if campaign is None:
        raise Http404
    ctx = campaign_overview(campaign)
    ctx["campaigns"] = Campaign.objects.all()
    ctx["funded_rows"] = (
        Application.objects.in_status(ApplicationStatus.FUNDED)
        .filter(campaign=campaign)
        .select_related("union")
        .order_by(*RANK_ORDER)
        .only("id", "name", "queue_number", "union__name", "submitted_at")[:50]
    )
    ctx["failed_rows"] = (
        Application.objects.in_status(ApplicationStatus.PAYMENT_FAILED)
        .filter(campaign=campaign)
        .select_related("union")
        .only("id", "name", "bank_account_last4", "payment_failure_reason", "union__name")
    )
    return render(request, "payouts/dashboard.html", ctx)


def _back(campaign_id):
    return redirect(f"/payouts/?campaign={campaign_id}")


@require_POST
@city_staff_required
def allocate(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    _run(
        request,
        lambda: allocation.allocate(campaign, actor=request.user),
        lambda r: (
            f"名额分配完成：拟获补助 {r.funded} 人，候补 {r.waitlisted} 人，"
            f"本次变动 {r.moved_count} 人"
        ),
    )
    return _back(pk)


@require_POST
@city_staff_required
def publish(request, pk):
    get_object_or_404(Campaign, pk=pk)
    _run(request, lambda: publication.publish(pk, by=request.user), "名单已公示")
    return _back(pk)


@require_POST
@city_staff_required
def create_batch(request, pk):
    get_object_or_404(Campaign, pk=pk)
    _run(
        request,
        lambda: payment.create_batch(pk, by=request.user),
        lambda b: f"已生成{b}：{b.item_count} 笔，共 {b.total_cny:.2f} 元",
    )
    return _back(pk)


@require_POST
@city_staff_required
def revoke(request, pk):
    app = get_object_or_404(Application.objects.visible_to(request.user), pk=pk)
    _run(
        request,
        lambda: revocation.revoke(app, request.user, request.POST.get("reason", "")),
        lambda promoted: (
            "已取消补助资格"
            + (f"，{promoted.name} 递补为拟获补助" if promoted else "，没有候补人员可递补")
        ),
    )
    return _back(app.campaign_id)


@require_POST
@city_staff_required
def correct_account(request, pk):
    app = get_object_or_404(Application.objects.visible_to(request.user), pk=pk)
    _run(
        request,
        lambda: payment.correct_account(
            app,
            request.user,
            request.POST.get("account", ""),
            request.POST.get("branch", ""),
            request.POST.get("reason", ""),
            confirm_unknown=request.POST.get("confirm_unknown_bin") == "on",
        ),
        lambda c: f"已更正银行账号（****{c.old_last4} → ****{c.new_last4}），可纳入下一发放批次",
    )
    return _back(app.campaign_id)


@city_staff_required
def batch_detail(request, pk):
    batch = get_object_or_404(PaymentBatch.objects.select_related("campaign"), pk=pk)
    ctx = batch_summary(batch)
    ctx["items"] = batch.items.select_related("application").defer(
        "account", "application__id_number", "application__bank_account"
    )[:200]
    ctx["downloads"] = batch.downloads.select_related("user")[:50]
    ctx["import_errors"] = request.session.pop(f"payout-import-errors-{pk}", None)
    return render(request, "payouts/batch.html", ctx)


@city_staff_required
def download(request, pk, fmt):
    batch = get_object_or_404(PaymentBatch.objects.select_related("campaign"), pk=pk)
    try:
        content, filename = payment.open_batch_file(batch, fmt, request.user, ip=current_ip())
    except PayoutError as exc:
        messages.error(request, exc.message)
        return redirect("payouts:batch", pk=pk)
    content_type = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    resp = HttpResponse(content, content_type=content_type)
    resp["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp["Cache-Control"] = "no-store"
    return resp


@require_POST
@city_staff_required
def import_result(request, pk):
    batch = get_object_or_404(PaymentBatch, pk=pk)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择银行回盘文件（CSV 或 XLSX）")
        return redirect("payouts:batch", pk=pk)
    try:
        dataset = load_dataset(upload, upload.name)
    except Exception:
        messages.error(request, "无法读取回盘文件，请上传 CSV（UTF-8/GBK）或 XLSX 文件")
        return redirect("payouts:batch", pk=pk)
    outcome = payment.import_result(batch.pk, dataset, by=request.user)
    if outcome.ok:
        messages.success(request, f"回盘导入完成：成功 {outcome.paid} 笔，失败 {outcome.failed} 笔")
    else:
        messages.error(request, f"回盘文件有 {len(outcome.errors)} 处错误，未导入任何记录")
        request.session[f"payout-import-errors-{pk}"] = [e["detail"] for e in outcome.errors]
    return redirect("payouts:batch", pk=pk)


# --- the public list -----------------------------------------------------------------------
def public_current(request):
    campaign = Campaign.objects.filter(published_at__isnull=False).order_by("-published_at").first()
    return _public(request, campaign or Campaign.current())


def public_campaign(request, pk):
    return _public(request, get_object_or_404(Campaign, pk=pk))


def _public(request, campaign):
    if campaign is None:
        raise Http404
    state = public_list.public_state(campaign)
    supplementary = public_list.supplementary_rows(campaign.pk) if campaign.is_published else []
    ctx = {"campaign": campaign, "state": state, "supplementary": supplementary}
    status = 200
    if state == "open":
        ctx["list_html"] = public_list.cached_list_html(
            campaign.pk,
            lambda rows: render_to_string("payouts/_public_rows.html", {"rows": rows}),
        )
    elif state == "not_published":
        status = 404
    return render(request, "payouts/public.html", ctx, status=status)
