"""Admin list of applications whose registry check has passed the SLA (the staff alert
until the notification outbox sends it), with the SLA figures above the list and an action
to send the check again."""

from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone

from registry import pipeline
from registry.models import OverdueRegistryCheck
from registry.sla import format_seconds, sla_figures
from subsidy.models import ApplicationStatus, Campaign
from unions.admin_mixins import ReadOnlyAdminMixin


@admin.register(OverdueRegistryCheck)
class OverdueRegistryCheckAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "queue_number",
        "name",
        "union",
        "campaign",
        "submitted_at",
        "waited",
        "registry_attempts",
        "registry_dispatched_at",
    )
    list_filter = ("campaign",)
    ordering = ("submitted_at",)
    actions = ("redispatch",)
    list_select_related = ("union", "campaign")

    def get_queryset(self, request):
        now = timezone.now()
        overdue = Q(pk__in=[])
        for c in Campaign.objects.all():
            overdue |= Q(
                campaign=c, submitted_at__lt=now - timezone.timedelta(hours=c.registry_sla_hours)
            )
        return (
            super().get_queryset(request).in_status(ApplicationStatus.PENDING_CHSI).filter(overdue)
        )

    @admin.display(description="已等待")
    def waited(self, obj):
        return format_seconds((timezone.now() - obj.submitted_at).total_seconds())

    @admin.action(description="重新派发学历校核任务")
    def redispatch(self, request, queryset):
        sent = pipeline.send_checks(list(queryset.values_list("pk", flat=True)))
        messages.info(request, f"已重新派发 {sent} 条校核任务")

    def changelist_view(self, request, extra_context=None):
        campaign = Campaign.current()
        extra_context = extra_context or {}
        if campaign is not None:
            f = sla_figures(campaign)
            messages.warning(
                request,
                f"{campaign}：已出结果 {f.checked}，用时中位数 {format_seconds(f.median_seconds)}，"
                f"P95 {format_seconds(f.p95_seconds)}，待校核 {f.pending}，"
                f"超过 {f.sla_hours} 小时无结果 {f.overdue}",
            )
        return super().changelist_view(request, extra_context)

    def has_view_permission(self, request, obj=None):
        # city staff: whoever may see applications in the admin at all
        return request.user.is_active and request.user.has_perm("subsidy.view_application")
