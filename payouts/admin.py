"""Admin for the payout stage: the ledger (with the historical import), batches, corrections."""

from django.contrib import admin
from import_export.admin import ImportMixin

from payouts.models import (
    AccountCorrection,
    GrantLedger,
    PaymentBatch,
    PaymentFileDownload,
    PaymentItem,
)
from payouts.services.ledger import LedgerResource


@admin.register(GrantLedger)
class GrantLedgerAdmin(ImportMixin, admin.ModelAdmin):
    """Historical grants are imported here (姓名, 身份证号码, 年度, 金额); a file with any bad
    row shows the row errors and cannot be confirmed — nothing is saved."""

    resource_classes = [LedgerResource]
    list_display = ("name", "year", "amount_cny", "source", "created_at")
    list_filter = ("year", "source")
    search_fields = ("name",)
    readonly_fields = ("id_hmac", "application", "created_at")

    def has_change_permission(self, request, obj=None):
        return False


class PaymentItemInline(admin.TabularInline):
    model = PaymentItem
    fields = ("line", "name", "masked_account", "amount_cny", "branch", "result", "failure_reason")
    readonly_fields = fields
    can_delete = False
    extra = 0
    max_num = 0
    show_change_link = False

    def masked_account(self, obj):
        return obj.masked_account

    masked_account.short_description = "账号"


@admin.register(PaymentBatch)
class PaymentBatchAdmin(admin.ModelAdmin):
    list_display = ("__str__", "item_count", "total_cny", "created_at", "result_imported_at")
    readonly_fields = [f.name for f in PaymentBatch._meta.fields]
    inlines = [PaymentItemInline]

    def has_add_permission(self, request):
        return False  # batches are made from the payout page, which writes the files once

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PaymentFileDownload)
class PaymentFileDownloadAdmin(admin.ModelAdmin):
    list_display = ("batch", "file_format", "user", "ip", "downloaded_at")
    readonly_fields = ("batch", "file_format", "user", "ip", "downloaded_at")

    def has_add_permission(self, request):
        return False


@admin.register(AccountCorrection)
class AccountCorrectionAdmin(admin.ModelAdmin):
    list_display = ("application", "old_last4", "new_last4", "reason", "by", "at")
    readonly_fields = [f.name for f in AccountCorrection._meta.fields]

    def has_add_permission(self, request):
        return False
