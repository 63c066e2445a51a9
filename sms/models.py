"""The SMS templates as data: one row per catalogue entry (`sms.catalogue`), completed by
staff with what the provider registered (template code, signature, the approved text)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from sms import catalogue


class SmsTemplate(models.Model):
    key = models.CharField("用途", max_length=40, unique=True, editable=False)
    provider_code = models.CharField(
        "短信平台模板编号",
        max_length=40,
        blank=True,
        help_text="在短信平台（如阿里云短信服务）审核通过后分配的模板编号，例如 SMS_123456789。"
        "未填写时真实短信平台不会发送此类短信。",
    )
    sign_name = models.CharField(
        "短信签名",
        max_length=12,
        blank=True,
        help_text="已在短信平台报备的签名，不含【】；留空使用系统设置 SMS_SIGN_NAME。",
    )
    text = models.TextField(
        "模板内容",
        help_text="与短信平台审核通过的内容一致；变量写作 ${名称}，只能使用本用途提供的变量。",
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "短信模板"
        verbose_name_plural = "短信模板"
        ordering = ["key"]

    def __str__(self):
        return self.entry.name if self.key in catalogue.CATALOGUE else self.key

    @property
    def entry(self) -> catalogue.Entry:
        return catalogue.get(self.key)

    @property
    def effective_sign_name(self) -> str:
        return self.sign_name or settings.SMS_SIGN_NAME

    def clean(self):
        errors = {}
        text = catalogue.check_text(self.entry, self.text or "", self.effective_sign_name)
        if text:
            errors["text"] = text
        if self.sign_name:
            sign = catalogue.check_sign_name(self.sign_name)
            if sign:
                errors["sign_name"] = sign
        code = (self.provider_code or "").strip()
        if code and not (code.isascii() and code.replace("_", "").isalnum()):
            errors["provider_code"] = ["模板编号只含字母、数字和下划线，例如 SMS_123456789"]
        if errors:
            raise ValidationError(errors)


def sync_catalogue(apps=None, using="default", **kwargs):
    """post_migrate: a row with the default text for every catalogue entry that has none
    (through the migrated state's model: after `migrate sms zero` there is no table)."""
    try:
        model = apps.get_model("sms", "SmsTemplate") if apps is not None else SmsTemplate
    except LookupError:
        return
    existing = set(model.objects.using(using).values_list("key", flat=True))
    model.objects.using(using).bulk_create(
        model(key=e.key, text=e.text) for e in catalogue.ENTRIES if e.key not in existing
    )
