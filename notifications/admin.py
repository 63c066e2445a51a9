"""Staff views: the delivery log (read-only), WeChat bindings, the inquiry register with
XLSX export, and the district hotlines (附件1). The FAQ is registered here only if the
subsidy admin has not done so."""

from django.contrib import admin, messages
from import_export.admin import ExportMixin

from notifications.models import (
    DeliveryStatus,
    DistrictHotline,
    Inquiry,
    Notification,
    WeChatBinding,
)
from notifications.resources import InquiryResource
from notifications.services import delivery
from subsidy.models import FAQ
from unions.admin_mixins import ReadOnlyAdminMixin


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "kind",
        "channel",
        "masked_recipient",
        "application",
        "status",
        "attempts",
        "sent_at",
        "last_error",
    )
    list_filter = ("status", "kind", "channel")
    search_fields = ("=key", "=application__queue_number", "transition")
    date_hierarchy = "created_at"
    list_select_related = ("application",)
    exclude = ("recipient",)
    readonly_fields = [
        "key",
        "kind",
        "channel",
        "masked_recipient",
        "recipient_user",
        "application",
        "transition",
        "subject",
        "text",
        "template_id",
        "data",
        "status",
        "attempts",
        "next_attempt_at",
        "lease_until",
        "last_error",
        "channel_message_id",
        "created_at",
        "sent_at",
    ]
    actions = ["resend_selected"]

    @admin.display(description="接收方")
    def masked_recipient(self, obj):
        return obj.masked_recipient

    @admin.action(description="重新发送（仅限发送失败或结果待核实的记录）", permissions=["view"])
    def resend_selected(self, request, queryset):
        rows = queryset.filter(status__in=[DeliveryStatus.FAILED, DeliveryStatus.UNCONFIRMED])
        n = 0
        for row in rows:
            delivery.resend(row)
            n += 1
        messages.info(request, f"已重新加入发送队列 {n} 条")


@admin.register(WeChatBinding)
class WeChatBindingAdmin(admin.ModelAdmin):
    list_display = ("user", "subscribed", "updated_at")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)


@admin.register(Inquiry)
class InquiryAdmin(ExportMixin, admin.ModelAdmin):
    resource_classes = [InquiryResource]
    list_display = ("created_at", "union", "name", "masked_phone", "category", "status")
    list_filter = ("status", "category", "campaign")
    search_fields = ("name", "phone", "text", "union__name")
    raw_id_fields = ("union", "recorded_by")

    @admin.display(description="联系电话")
    def masked_phone(self, obj):
        return obj.masked_phone


@admin.register(DistrictHotline)
class DistrictHotlineAdmin(admin.ModelAdmin):
    list_display = ("name", "level", "hotline")
    list_editable = ("hotline",)
    fields = ("name", "hotline")
    readonly_fields = ("name",)
    search_fields = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(level__in=["district", "industry"])

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


if not admin.site.is_registered(FAQ):

    @admin.register(FAQ)
    class FAQAdmin(admin.ModelAdmin):
        list_display = ("position", "question", "published")
        list_editable = ("published",)
        ordering = ("position", "pk")
