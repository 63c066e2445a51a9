"""Statistics pages and the inquiry register: parse → one service → render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from import_export.formats.base_formats import XLSX
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications.forms import InquiryFilterForm, InquiryForm
from notifications.models import Inquiry
from notifications.resources import InquiryResource
from notifications.services import inquiries, stats
from notifications.services.export import stats_workbook
from subsidy.api.errors import ApiError
from subsidy.models import ApplicationStatus, Campaign

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require_staff(request):
    if not stats.may_view(request.user):
        raise Http404


def _campaign(campaign_id):
    return get_object_or_404(Campaign, pk=campaign_id)


@login_required
def stats_index(request):
    _require_staff(request)
    campaign = Campaign.current()
    if campaign is None:
        return render(request, "notifications/stats_empty.html")
    return redirect("notifications:stats", campaign_id=campaign.pk)


@login_required
def stats_page(request, campaign_id):
    _require_staff(request)
    campaign = _campaign(campaign_id)
    data = stats.campaign_stats(campaign, request.user)
    statuses = [s for s in ApplicationStatus.values]
    context = {
        "campaign": campaign,
        "campaigns": Campaign.objects.all(),
        "data": data,
        "statuses": statuses,
        "status_labels": [ApplicationStatus(s).label for s in statuses],
        "district_rows": [
            {
                "district": d["district"],
                "cells": [d["counts"][s] for s in statuses],
                "total": d["total"],
            }
            for d in data["by_district"]
        ],
        "applicants_pct": stats.progress(data["applicants"]["count"], data["applicants"]["cap"]),
        "approvals_pct": stats.progress(data["approvals"]["count"], data["approvals"]["quota"]),
    }
    return render(request, "notifications/stats.html", context)


@login_required
def stats_export(request, campaign_id):
    _require_staff(request)
    campaign = _campaign(campaign_id)
    data = stats.campaign_stats(campaign, request.user)
    response = HttpResponse(stats_workbook(data), content_type=XLSX_TYPE)
    filename = f"stats-{campaign.year}-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class CampaignStatsAPI(APIView):
    """GET /api/v1/campaigns/{id}/stats/ — the dashboard's figures in the caller's scope."""

    @extend_schema(
        summary="批次统计",
        description=(
            "本人管理范围内的统计：applicants/cap、approvals/quota、by_status、by_district、"
            "by_worker_group、by_kind、by_hukou、backlog、registry_latency、opening_day。"
            "非审核人员或批次不存在：404 not_found。"
        ),
        responses={200: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT},
    )
    def get(self, request, campaign_id):
        if not stats.may_view(request.user):
            raise ApiError("not_found")
        hit = stats.cached(campaign_id, request.user)
        if hit is not None:  # only an existing campaign's figures are ever cached
            return Response(hit)
        campaign = Campaign.objects.filter(pk=campaign_id).first()
        if campaign is None:
            raise ApiError("not_found", "未找到该批次")
        return Response(stats.campaign_stats(campaign, request.user))


# --- inquiry register ------------------------------------------------------------------------


def _require_register(request):
    if not inquiries.may_use(request.user):
        raise Http404


@login_required
def inquiry_list(request):
    _require_register(request)
    form = InquiryFilterForm(request.GET or None)
    params = form.cleaned_data if form.is_valid() else {}
    qs = inquiries.filtered(request.user, **params)
    if request.GET.get("export") == "xlsx":
        dataset = InquiryResource().export(queryset=qs)
        response = HttpResponse(  # escape: typed text never becomes a formula
            XLSX().export_data(dataset, escape=True), content_type=XLSX_TYPE
        )
        response["Content-Disposition"] = (
            f'attachment; filename="inquiries-{timezone.localdate():%Y%m%d}.xlsx"'
        )
        return response
    return render(
        request,
        "notifications/inquiry_list.html",
        {"form": form, "inquiries": qs[:200], "total": qs.count()},
    )


@login_required
def inquiry_new(request):
    _require_register(request)
    unions = inquiries.unions_in_scope(request.user)
    form = InquiryForm(request.POST or None, unions=unions)
    if request.method == "POST" and form.is_valid():
        inquiries.record(request.user, campaign=Campaign.current(), **form.cleaned_data)
        messages.success(request, "已登记")
        return redirect("notifications:inquiries")
    return render(request, "notifications/inquiry_form.html", {"form": form, "inquiry": None})


@login_required
def inquiry_edit(request, pk):
    _require_register(request)
    inquiry = get_object_or_404(Inquiry.objects.visible_to(request.user), pk=pk)
    unions = inquiries.unions_in_scope(request.user)
    form = InquiryForm(request.POST or None, instance=inquiry, unions=unions)
    if request.method == "POST" and form.is_valid():
        inquiries.update(inquiry, **form.cleaned_data)
        messages.success(request, "已保存")
        return redirect("notifications:inquiries")
    return render(request, "notifications/inquiry_form.html", {"form": form, "inquiry": inquiry})
