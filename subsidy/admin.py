"""Django admin for campaigns, applications (read-only, masked) and the reference data."""

from django.contrib import admin
from import_export import fields, resources
from import_export.admin import ImportExportModelAdmin

from subsidy.models import FAQ, Application, BankBin, Campaign, CommitmentLetter
from unions.admin import id_number_search, looks_like_id_number
from unions.admin_mixins import ReadOnlyAdminMixin


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = (
        "year",
        "title",
        "opens_at",
        "closes_at",
        "quota",
        "application_cap",
        "applicant_count",
        "intake_state",
        "published_at",
    )
    readonly_fields = ("applicant_count", "last_queue_number")
    fieldsets = (
        (None, {"fields": ("year", "title", "amount_cny", "quota", "application_cap")}),
        ("资格条件", {"fields": ("eligible_from", "eligible_until", "membership_deadline")}),
        (
            "申领与审核时间",
            {
                "fields": (
                    "opens_at",
                    "closes_at",
                    "intake_closed_manually",
                    "grassroots_review_until",
                    "district_review_until",
                    "city_review_until",
                )
            },
        ),
        (
            "公示与服务",
            {
                "fields": (
                    "publication_days",
                    "published_at",
                    "registry_sla_hours",
                    "general_hotline",
                    "general_hotline_name",
                )
            },
        ),
        ("计数（系统维护）", {"fields": ("applicant_count", "last_queue_number")}),
    )

    @admin.display(description="申领通道", boolean=True)
    def intake_state(self, obj):
        return obj.intake_open()


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: status changes go through the review desk and its audited services."""

    list_display = (
        "queue_number",
        "name",
        "masked_id",
        "masked_mobile",
        "union",
        "kind",
        "status",
        "masked_account_col",
        "submitted_at",
    )
    list_filter = ("campaign", "status", "kind", "worker_group", "hukou", "bin_unknown")
    search_fields = ("name", "mobile", "study_number", "union__name")
    search_help_text = "按姓名、手机号码、学号/证书编号、工会名称，或完整身份证号码（精确）查找"
    list_select_related = ("union", "campaign")
    list_per_page = 50
    exclude = ("id_number", "bank_account", "bank_card_photo", "registry_record")
    readonly_fields = ("masked_id", "masked_account_col")

    @admin.display(description="身份证号码")
    def masked_id(self, obj):
        return obj.masked_id_number

    @admin.display(description="手机号码")
    def masked_mobile(self, obj):
        from unions.pii import mask_phone

        return mask_phone(obj.mobile)

    @admin.display(description="银行账号")
    def masked_account_col(self, obj):
        return obj.masked_account

    def get_readonly_fields(self, request, obj=None):
        names = [f.name for f in Application._meta.fields if f.name not in self.exclude]
        return [*self.readonly_fields, *names]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return Application.objects.visible_to(request.user).select_related("union", "campaign")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if looks_like_id_number(term):
            return id_number_search(queryset, term), False
        return super().get_search_results(request, queryset, term)


class BankBinResource(resources.ModelResource):
    bin = fields.Field(column_name="bin", attribute="bin")
    bank = fields.Field(column_name="bank", attribute="bank")
    bank_name = fields.Field(column_name="bank_name", attribute="bank_name")
    card_type = fields.Field(column_name="type", attribute="card_type")
    length = fields.Field(column_name="length", attribute="length")

    class Meta:
        model = BankBin
        fields = ("bin", "bank", "bank_name", "card_type", "length")
        import_id_fields = ("bin", "length", "bank", "card_type")
        use_transactions = True
        skip_unchanged = True


@admin.register(BankBin)
class BankBinAdmin(ImportExportModelAdmin):
    resource_classes = [BankBinResource]
    list_display = ("bin", "bank", "bank_name", "card_type", "length")
    list_filter = ("bank", "card_type", "length")
    search_fields = ("bin", "bank", "bank_name")


@admin.register(CommitmentLetter)
class CommitmentLetterAdmin(admin.ModelAdmin):
    list_display = ("version", "title", "active", "created_at")
    list_filter = ("active",)


@admin.register(FAQ)
class FAQAdmin(admin.ModelAdmin):
    list_display = ("position", "question", "published")
    list_editable = ("published",)
    list_display_links = ("question",)
    search_fields = ("question", "answer")
