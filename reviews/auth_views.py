"""Reviewer sign-in: 手机验证码 (grassroots, the OTP service) or 账号密码 (district and city:
e-mail or username + password, locked out by django-axes after repeated failures), sign-out,
and Django's password-reset flow with our templates."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from reviews.forms import OtpLoginForm, PasswordLoginForm, ReviewerPasswordResetForm
from reviews.services import signin
from subsidy.request_context import client_ip
from subsidy.services import otp
from unions.models import ReviewerProfile


def _next_url(request):
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    reviewer = request.user.reviewer
    if not reviewer.can_review and reviewer.can_manage_reviewers:
        return reverse("reviews:reviewers")  # a manager without review rights
    return reverse("reviews:dashboard")


def _username_for(identifier: str) -> str:
    """E-mail (of the login or of the reviewer profile) or username → username."""
    identifier = identifier.strip()
    if "@" in identifier:
        User = get_user_model()
        user = User.objects.filter(email__iexact=identifier).first()
        if user is None:
            profile = (
                ReviewerProfile.objects.select_related("user")
                .filter(email__iexact=identifier)
                .first()
            )
            user = profile.user if profile else None
        if user is not None:
            return user.get_username()
    return identifier


def login_view(request):
    tab = request.POST.get("tab") or request.GET.get("tab") or "otp"
    otp_form, pw_form = OtpLoginForm(), PasswordLoginForm()
    error, code_sent, status, headers = None, False, 200, {}
    if request.method == "POST" and tab == "otp":
        otp_form = OtpLoginForm(request.POST)
        if otp_form.is_valid():
            phone = otp_form.cleaned_data["phone"]
            try:
                if request.POST.get("action") == "send":
                    otp.request_code(phone, ip=client_ip(request))
                    code_sent = True
                    messages.info(request, "验证码已发送，5 分钟内有效")
                else:
                    user = otp.verify_code(phone, otp_form.cleaned_data["code"])
                    reviewer = getattr(user, "reviewer", None)
                    if reviewer is None or not reviewer.active:
                        error = "该手机号不是审核员。申领人请从申领入口登录。"
                    else:
                        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                        return redirect(_next_url(request))
            except otp.OtpError as exc:
                error = exc.detail
                code_sent = request.POST.get("action") != "send"
        else:
            error = "请填写手机号码"
    elif request.method == "POST" and tab == "password":
        pw_form = PasswordLoginForm(request.POST)
        if pw_form.is_valid():
            username = _username_for(pw_form.cleaned_data["identifier"])
            wait = signin.wait_seconds(username)
            user = None
            if wait is None:
                user = authenticate(
                    request, username=username, password=pw_form.cleaned_data["password"]
                )
            if wait is not None:
                error = f"该账号登录失败次数过多，请 {wait} 秒后再试"
                status, headers = 429, {"Retry-After": str(wait)}
            elif getattr(request, "axes_locked_out", False):
                return locked_out(request)
            elif user is None:
                signin.record_failure(username)
                error = "账号或密码错误"
            elif getattr(user, "reviewer", None) is None or not user.reviewer.active:
                error = "该账号不是审核员"
            else:
                signin.clear(username)
                login(request, user)
                return redirect(_next_url(request))
        else:
            error = "请填写账号和密码"
    if error and status == 200:
        status = 400
    context = {
        "tab": tab,
        "otp_form": otp_form,
        "pw_form": pw_form,
        "error": error,
        "code_sent": code_sent,
        "next": request.POST.get("next") or request.GET.get("next") or "",
    }
    response = render(request, "reviews/login.html", context, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


LOCKED_TEXT = "登录失败次数过多，账号已暂时锁定，请 15 分钟后再试或重置密码"


def locked_out(request, original_response=None, credentials=None):
    """django-axes' lockout answer (AXES_LOCKOUT_CALLABLE): the sign-in page in Chinese,
    429 with Retry-After, for this account from this client address only."""
    wait = int(settings.AXES_COOLOFF_TIME * 3600)
    context = {
        "tab": "password",
        "otp_form": OtpLoginForm(),
        "pw_form": PasswordLoginForm(),
        "error": LOCKED_TEXT,
        "error_code": "account_locked",
        "code_sent": False,
        "next": "",
    }
    response = render(request, "reviews/login.html", context, status=429)
    response["Retry-After"] = str(wait)
    return response


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, "已退出登录")
    return redirect(reverse("reviews:login"))


password_reset = auth_views.PasswordResetView.as_view(
    form_class=ReviewerPasswordResetForm,
    template_name="reviews/password_reset.html",
    email_template_name="reviews/password_reset_email.txt",
    subject_template_name="reviews/password_reset_subject.txt",
    success_url=reverse_lazy("reviews:password_reset_done"),
)
password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="reviews/password_reset_done.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="reviews/password_reset_confirm.html",
    success_url=reverse_lazy("reviews:password_reset_complete"),
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="reviews/password_reset_complete.html"
)
