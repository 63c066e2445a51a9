"""Forms of the reviewer pages: sign-in, decisions, reviewer management."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.db.models import Q


class OtpLoginForm(forms.Form):
    phone = forms.CharField(label="手机号码", max_length=20)
    code = forms.CharField(label="验证码", max_length=6, required=False)


class PasswordLoginForm(forms.Form):
    identifier = forms.CharField(label="邮箱或用户名", max_length=150)
    password = forms.CharField(label="密码", widget=forms.PasswordInput, max_length=128)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="审核结果",
        choices=[("approve", "审核通过"), ("reject", "审核不通过")],
        widget=forms.RadioSelect,
        error_messages={"required": "请选择审核结果"},
    )
    confirm_employed = forms.BooleanField(label="确认在职职工", required=False)
    reason = forms.CharField(
        label="审核不通过原因", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    expected_status = forms.CharField(required=False, widget=forms.HiddenInput)


class ReviewerForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=50)
    phone = forms.CharField(label="手机号码", max_length=20)
    can_review = forms.BooleanField(label="审核", required=False, initial=True)
    can_manage_reviewers = forms.BooleanField(label="管理审核员", required=False)


class ReviewerPasswordResetForm(PasswordResetForm):
    """Reset by the e-mail on the login or on the reviewer profile (the roster's 邮箱)."""

    def get_users(self, email):
        User = get_user_model()
        users = User.objects.filter(
            Q(email__iexact=email) | Q(reviewer__email__iexact=email), is_active=True
        ).distinct()
        return (u for u in users if u.has_usable_password())

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        user = context.get("user")
        to_email = args[1] if len(args) > 1 else kwargs.get("to_email")
        if user is not None and not user.email:
            to_email = getattr(getattr(user, "reviewer", None), "email", "") or to_email
        if len(args) > 1:
            args = (args[0], to_email, *args[2:])
        else:
            kwargs["to_email"] = to_email
        super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)
