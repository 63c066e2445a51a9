"""Django admin for the union tree, members, membership requests and reviewer accounts.

PII stays masked in every list; members are found by name, mobile or — exactly — by ID
number through the blind index. Staff who are not superusers see only their own scope.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from import_export.admin import ImportExportModelAdmin
from import_export.formats import base_formats

from unions.admin_mixins import ReadOnlyAdminMixin
from unions.models import (
    JoinRequest,
    Member,
    MembershipEvent,
    ReviewerProfile,
    TransferRequest,
    Union,
)
from unions.pii import blind_index, mask_id_number, mask_phone
from unions.resources import RosterResource
from unions.services import membership
from unions.validators import clean_id_number, clean_mobile, normalise_input


def scope_unions(user):
    """Unions a staff user may administer in the admin: all for superusers."""
    return membership.administered_unions(user)


def looks_like_id_number(term: str) -> bool:
    raw = normalise_input(term).replace(" ", "")
    return len(raw) == 18 and raw.isascii() and raw[:17].isdigit()


def id_number_search(queryset, search_term, field="id_hmac"):
    """Exact ID-number search through the blind index; the term is validated first, so a
    partial or malformed number simply matches nothing."""
    try:
        id_number = clean_id_number(search_term)
    except ValidationError:
        return queryset.none()
    return queryset.filter(**{field: blind_index(id_number)})


@admin.register(Union)
class UnionAdmin(admin.ModelAdmin):
    list_display = (
        "indented_name",
        "level",
        "district",
        "registered",
        "dues_paid",
        "contact_phone",
        "hotline",
    )
    list_filter = (
        "level",
        "registered",
        "dues_paid",
        ("district", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("name",)
    autocomplete_fields = ("parent",)
    readonly_fields = ("path", "depth", "district")
    list_per_page = 100

    @admin.display(description="工会名称", ordering="path")
    def indented_name(self, obj):
        return "　" * obj.depth + obj.name

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("district")
        if request.user.is_superuser:
            return qs
        return qs.filter(pk__in=scope_unions(request.user).values("pk"))


class MemberForm(forms.ModelForm):
    """The ID number is entered on creation; afterwards it is shown masked and only replaced
    when a correction is typed (a detail view of the full number is a logged review-desk
    action, not an admin page)."""

    id_number_input = forms.CharField(label="身份证号码", max_length=40, required=False)
    # wider than the column: clean_mobile normalises "+86 139-0000-0001" and names landlines
    mobile = forms.CharField(label="手机号码", max_length=32)

    class Meta:
        model = Member
        fields = ("name", "mobile", "union", "status", "active_since", "user")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["id_number_input"].label = "更正身份证号码"
            self.fields[
                "id_number_input"
            ].help_text = f"当前：{self.instance.masked_id_number}；留空则不修改"
        else:
            self.fields["id_number_input"].required = True

    def clean_id_number_input(self):
        raw = self.cleaned_data.get("id_number_input", "")
        if not raw and self.instance.pk:
            return ""
        value = clean_id_number(raw)
        clash = Member.objects.by_id_number(value).exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError("该身份证号码已登记为会员", code="id_duplicate")
        return value

    def clean_mobile(self):
        value = clean_mobile(self.cleaned_data.get("mobile", ""))
        if Member.objects.filter(mobile=value).exclude(pk=self.instance.pk).exists():
            raise ValidationError("该手机号码已被其他会员使用", code="mobile_duplicate")
        return value

    def save(self, commit=True):
        if self.cleaned_data.get("id_number_input"):
            self.instance.id_number = self.cleaned_data["id_number_input"]
        return super().save(commit=commit)


class MembershipEventInline(admin.TabularInline):
    model = MembershipEvent
    extra = 0
    can_delete = False
    fields = ("at", "kind", "from_union", "to_union", "by")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    form = MemberForm
    list_display = ("name", "masked_id", "masked_phone", "union", "status", "active_since")
    list_filter = ("status", ("union__district", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "mobile")
    search_help_text = "按姓名、手机号码，或完整身份证号码（精确）查找"
    autocomplete_fields = ("union",)
    raw_id_fields = ("user",)
    list_select_related = ("union",)
    inlines = [MembershipEventInline]
    list_per_page = 50

    @admin.display(description="身份证号码")
    def masked_id(self, obj):
        return obj.masked_id_number

    @admin.display(description="手机号码")
    def masked_phone(self, obj):
        return obj.masked_mobile

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(union__in=scope_unions(request.user))

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if looks_like_id_number(term):
            return id_number_search(queryset, term), False
        return super().get_search_results(request, queryset, term)


def _decide(modeladmin, request, queryset, service, done_text):
    ok = 0
    for req in queryset:
        try:
            service(req, by=request.user)
            ok += 1
        except (ValidationError, PermissionDenied) as exc:
            text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            modeladmin.message_user(request, f"{req}：{text}", messages.ERROR)
    if ok:
        modeladmin.message_user(request, f"已{done_text} {ok} 条", messages.SUCCESS)


class _RequestAdmin(admin.ModelAdmin):
    list_filter = ("status",)
    search_fields = ("member__name", "member__mobile")
    list_select_related = True
    date_hierarchy = "requested_at"

    @admin.display(description="会员")
    def member_name(self, obj):
        return obj.member.name

    @admin.display(description="手机号码")
    def member_phone(self, obj):
        return obj.member.masked_mobile

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{f"{self.scope_field}__in": scope_unions(request.user)})


@admin.register(JoinRequest)
class JoinRequestAdmin(_RequestAdmin):
    scope_field = "union"
    list_display = ("member_name", "member_phone", "union", "status", "requested_at", "decided_at")
    actions = ["approve_selected", "reject_selected"]

    @admin.action(description="批准所选入会申请")
    def approve_selected(self, request, queryset):
        _decide(self, request, queryset, membership.approve_join, "批准")

    @admin.action(description="拒绝所选入会申请")
    def reject_selected(self, request, queryset):
        _decide(self, request, queryset, membership.reject_join, "拒绝")


@admin.register(TransferRequest)
class TransferRequestAdmin(_RequestAdmin):
    scope_field = "to_union"
    list_display = (
        "member_name",
        "member_phone",
        "from_union",
        "to_union",
        "status",
        "requested_at",
        "decided_at",
    )
    actions = ["approve_selected", "reject_selected"]

    @admin.action(description="批准所选会籍转移")
    def approve_selected(self, request, queryset):
        _decide(self, request, queryset, membership.approve_transfer, "批准")

    @admin.action(description="拒绝所选会籍转移")
    def reject_selected(self, request, queryset):
        _decide(self, request, queryset, membership.reject_transfer, "拒绝")


@admin.register(MembershipEvent)
class MembershipEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("member", "kind", "from_union", "to_union", "at", "by")
    list_filter = ("kind",)
    search_fields = ("member__name", "member__mobile")
    list_select_related = ("member", "from_union", "to_union", "by")


class ReviewerProfileForm(forms.ModelForm):
    class Meta:
        model = ReviewerProfile
        fields = (
            "user",
            "name",
            "phone",
            "email",
            "affiliation",
            "level",
            "managed_unions",
            "member",
            "id_number",
            "can_review",
            "can_manage_reviewers",
            "active",
            "created_by",
        )
        widgets = {"id_number": forms.TextInput(attrs={"autocomplete": "off"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Write-only: the stored number is never sent back to the page, only its mask.
        current = self.instance.id_number if self.instance.pk else ""
        self.initial["id_number"] = ""
        field = self.fields["id_number"]
        field.help_text = (
            f"当前：{mask_id_number(current)}（留空则不变）" if current else "用于回避本人的申领"
        )

    def clean_id_number(self):
        value = self.cleaned_data.get("id_number") or ""
        if not value.strip():
            return self.instance.id_number if self.instance.pk else ""
        return clean_id_number(value)


@admin.register(ReviewerProfile)
class ReviewerProfileAdmin(ImportExportModelAdmin):
    """Reviewer accounts; the roster of attachment 4 is imported here (dry run, then
    confirm)."""

    resource_classes = [RosterResource]
    formats = [base_formats.XLSX, base_formats.CSV]
    list_display = (
        "name",
        "masked_phone",
        "email",
        "level",
        "unions",
        "can_review",
        "can_manage_reviewers",
        "active",
    )
    list_filter = ("level", "active", "can_review", "can_manage_reviewers")
    search_fields = ("name", "phone", "email", "managed_unions__name")
    form = ReviewerProfileForm
    filter_horizontal = ("managed_unions",)
    raw_id_fields = ("user", "created_by", "member")

    @admin.display(description="手机号码")
    def masked_phone(self, obj):
        return mask_phone(obj.phone)

    def process_dataset(self, dataset, form, request, **kwargs):
        """The dry run and the confirmation both say which accounts are linked to their
        member record (conflict of interest, SPEC §2)."""
        result = super().process_dataset(dataset, form, request, **kwargs)
        if not result.has_errors() and not result.has_validation_errors():
            for number, message in getattr(result, "links", []):
                messages.info(request, f"第 {number} 行：{message}")
        return result

    @admin.display(description="管理的工会")
    def unions(self, obj):
        return "、".join(u.name for u in obj.managed_unions.all())

    def get_queryset(self, request):
        qs = super().get_queryset(request).prefetch_related("managed_unions")
        if request.user.is_superuser:
            return qs
        return qs.filter(managed_unions__in=scope_unions(request.user)).distinct()
