from django import forms

from notifications.models import Inquiry, InquiryCategory, InquiryStatus
from unions.validators import clean_contact_phone


class InquiryForm(forms.ModelForm):
    class Meta:
        model = Inquiry
        fields = ["union", "name", "phone", "category", "text", "answer", "status"]
        widgets = {
            "text": forms.Textarea(attrs={"rows": 4}),
            "answer": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, unions=None, **kwargs):
        super().__init__(*args, **kwargs)
        if unions is not None:
            self.fields["union"].queryset = unions
        self.fields["union"].error_messages["invalid_choice"] = "请选择您管理范围内的工会"
        for f in ("name", "phone", "text"):
            self.fields[f].error_messages["required"] = "请填写" + self.fields[f].label

    def clean_phone(self):
        return clean_contact_phone(self.cleaned_data["phone"])


class InquiryFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="状态", choices=[("", "全部")] + InquiryStatus.choices, required=False
    )
    category = forms.ChoiceField(
        label="类别", choices=[("", "全部")] + InquiryCategory.choices, required=False
    )
    q = forms.CharField(label="姓名/电话/内容", required=False, max_length=50)
