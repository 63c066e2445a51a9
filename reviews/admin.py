"""Admin views of the audit trail and the PII view log: read-only (no add, change or delete),
and scoped through `visible_to` like every other page."""

from django.contrib import admin

from reviews.models import AuditRecord, OpenedApplication, PIIViewLog
from subsidy.models import Application
from unions.admin_mixins import ReadOnlyAdminMixin


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    def get_queryset(self, request):
        visible = Application.objects.visible_to(request.user).values("pk")
        return super().get_queryset(request).filter(application__in=visible)


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    list_display = (
        "seq",
        "application",
        "transition",
        "from_status",
        "to_status",
        "actor_name",
        "level",
        "created_at",
        "ip",
    )
    list_filter = ("transition", "level")
    search_fields = ("actor_name", "application__queue_number")
    list_select_related = ("application",)


@admin.register(PIIViewLog)
class PIIViewLogAdmin(ReadOnlyAdmin):
    list_display = ("viewed_at", "user", "application", "field", "ip")
    list_filter = ("field",)
    list_select_related = ("user", "application")


@admin.register(OpenedApplication)
class OpenedApplicationAdmin(ReadOnlyAdmin):
    list_display = ("opened_at", "user", "application")
    list_select_related = ("user", "application")
