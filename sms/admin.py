"""短信模板: staff enter what the provider registered; the rows come from the catalogue."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from sms import catalogue
from sms.models import SmsTemplate
from sms.sending import build


@admin.register(SmsTemplate)
class SmsTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "kind", "provider_code", "sign", "updated_at")
    fields = ("name", "key", "kind", "variables", "provider_code", "sign_name", "text", "preview")
    readonly_fields = ("name", "key", "kind", "variables", "preview")

    @admin.display(description="名称")
    def name(self, obj):
        return obj.entry.name

    @admin.display(description="类型")
    def kind(self, obj):
        return catalogue.KIND_LABELS[obj.entry.kind]

    @admin.display(description="签名")
    def sign(self, obj):
        return obj.effective_sign_name

    @admin.display(description="可用变量")
    def variables(self, obj):
        sample = obj.entry.sample
        return format_html_join(
            "、",
            "<code>${{{}}}</code>（如：{}）",
            ((p, sample.get(p, "")) for p in obj.entry.params),
        )

    @admin.display(description="示例")
    def preview(self, obj):
        if obj.pk is None or catalogue.check_text(obj.entry, obj.text, obj.effective_sign_name):
            return "—"
        return format_html("<p>{}</p>", build("13900000000", obj.key, obj.entry.sample, obj).text)

    def has_add_permission(self, request):
        return False  # one row per catalogue entry, created by migrate

    def has_delete_permission(self, request, obj=None):
        return False
