"""The applicant's pages (WeUI, phone first): sign-in, entry check, form, progress, photo.

Thin views: parse with a form, call one service, render. Every page gets the help footer's
`hotline` and `faqs` through `_page()`.
"""

import secrets
from urllib.parse import urlparse

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from reviews.models import PIIViewLog
from subsidy import codes
from subsidy.forms import ApplicationForm, PhoneForm
from subsidy.models import Application, Campaign
from subsidy.refcache import current_commitment
from subsidy.request_context import client_ip
from subsidy.services import eligibility, intake, otp, progress, uploads
from unions.pii import mask_phone

FORM_TOKENS = "application_form_tokens"


def _page(request, template, context=None, status=200, headers=None):
    ctx = progress.help_context(request.user)
    ctx.update(context or {})
    response = render(request, template, ctx, status=status)
    for k, v in (headers or {}).items():
        response[k] = v
    return response


def _home_for(user) -> str:
    reviewer = getattr(user, "reviewer", None)
    return "/review/" if reviewer is not None and reviewer.active else "/apply/"


def _safe_next(request) -> str | None:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    try:
        parsed = urlparse(nxt)
    except ValueError:  # "//[" — not a URL at all
        return None
    if nxt.startswith("/") and not nxt.startswith("//") and not parsed.netloc:
        return nxt
    return None


@never_cache
def login_view(request):
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_home_for(request.user))
    form = PhoneForm(request.POST or None)
    ctx = {"form": form, "stage": "phone", "next": _safe_next(request) or ""}
    if request.method != "POST" or not form.is_valid():
        return _page(request, "subsidy/login.html", ctx)
    phone, code = form.cleaned_data["phone"], form.cleaned_data.get("code") or ""
    action = request.POST.get("action", "send")
    try:
        if action == "send":
            ttl = otp.request_code(phone, ip=client_ip(request))
            ctx.update(
                stage="code",
                sent=f"验证码已发送至 {mask_phone(otp.normalise_phone(phone))}，{ttl // 60} 分钟内有效",
            )
            return _page(request, "subsidy/login.html", ctx)
        user = otp.verify_code(phone, code)
    except otp.OtpError as exc:
        ctx.update(error=exc.detail, error_code=exc.code)
        if action == "verify" or exc.code == "rate_limited":
            ctx["stage"] = "code" if action == "verify" else ctx["stage"]
        if exc.retry_after:
            return _page(
                request,
                "subsidy/login.html",
                ctx,
                status=codes.status(exc.code),
                headers={"Retry-After": str(exc.retry_after)},
            )
        return _page(request, "subsidy/login.html", ctx, status=400)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(ctx["next"] or _home_for(user))


@require_POST
def logout_view(request):
    logout(request)
    return redirect("/login/")


@login_required
@never_cache
def apply_view(request):
    """The entry check (系统校核): every reason that applies, or the way into the form."""
    check = eligibility.entry_check(request.user)
    return _page(
        request,
        "subsidy/apply.html",
        {"check": check, "member": check.member, "campaign": check.campaign},
    )


def _issue_token(request) -> str:
    token = secrets.token_urlsafe(24)
    tokens = request.session.get(FORM_TOKENS, [])[-4:] + [token]
    request.session[FORM_TOKENS] = tokens
    return token


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])  # OPTIONS, TRACE … must not reach the submit
def form_view(request):
    """正式申领. A one-time form token doubles as the idempotency key: a double click or a
    re-sent POST returns the application the first one created."""
    check = eligibility.entry_check(request.user)
    member, campaign = check.member, check.campaign
    commitment = current_commitment.get()
    if request.method in ("GET", "HEAD"):
        if not check.eligible:
            return redirect("/apply/")
        form = ApplicationForm(commitment=commitment, initial={"notify_opt_in": True})
        return _form_page(request, form, member, campaign, commitment, _issue_token(request))

    if member is None or campaign is None:
        return redirect("/apply/")  # no membership or no campaign: the entry check says why
    token = request.POST.get("form_token", "")
    if not (len(token) <= 64 and token.isascii() and token.isprintable()):
        token = ""  # not one we issued (tampered): the page answers that it expired
    form = ApplicationForm(request.POST, request.FILES, commitment=commitment)
    # The submission's steps, in the API's order (subsidy.api.views.create_application):
    # precheck (the entry check's refusal, or the retried request's application), the form,
    # then the submit under the lock.
    try:
        checked = intake.precheck(member, campaign, token)
        if isinstance(checked, Application):
            return redirect("/apply/progress/")  # a re-sent POST: its application exists
        if token not in request.session.get(FORM_TOKENS, []):
            return _form_page(
                request,
                form,
                member,
                campaign,
                commitment,
                _issue_token(request),
                refusal={"code": "form_expired", "detail": "页面已过期，请核对后重新提交"},
                status=400,
            )
        if not form.is_valid():
            return _form_page(request, form, member, campaign, commitment, token, status=400)
        intake.submit(
            member, campaign, form.submission_data(), idempotency_key=token, prechecked=checked
        )
    except intake.IntakeRefused as exc:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return _form_page(
            request,
            form,
            member,
            campaign,
            commitment,
            token,
            refusal={"code": exc.code, "detail": exc.detail},
            status=exc.status_code,
            headers=headers,
        )
    messages.success(request, "申领已提交，系统将在 2 小时内完成学历校核")
    return redirect("/apply/progress/")


def _form_page(
    request, form, member, campaign, commitment, token, refusal=None, status=200, headers=None
):
    photo_lost = request.method == "POST" and bool(request.FILES.get("card_photo"))
    return _page(
        request,
        "subsidy/form.html",
        {
            "form": form,
            "member": member,
            "campaign": campaign,
            "commitment": commitment,
            "form_token": token,
            "refusal": refusal,
            "photo_lost": photo_lost and status != 200,
            "error_codes": [e["code"] for e in form.error_list()] if form.is_bound else [],
        },
        status=status,
        headers=headers,
    )


@login_required
@never_cache
def progress_view(request):
    member = getattr(request.user, "member", None)
    campaign = Campaign.current()
    return _page(
        request,
        "subsidy/progress.html",
        {
            "applications": progress.progress_of(member),
            "campaign": campaign,
            "member": member,
            "check": eligibility.entry_check(request.user, campaign),
        },
    )


@login_required
@never_cache
def card_photo(request, pk: int):
    """The bank card photo: its applicant, or a reviewer whose scope contains the application
    (logged in PIIViewLog when a photo is served). Anyone else gets 404, as if it did not
    exist."""
    app = Application.objects.of_user(request.user).filter(pk=pk).first()
    by_reviewer = app is None
    if by_reviewer:
        app = Application.objects.visible_to(request.user).filter(pk=pk).first()
        if app is None:
            raise Http404
    relative = app.bank_card_photo
    if uploads.is_original(relative):  # not yet re-encoded: never serve the upload as is
        relative = uploads.finalize_application_photo(app.pk)
    path = uploads.path_of(relative)
    if path is None:
        raise Http404
    photo = open(path, "rb")
    if by_reviewer:  # the log says what a reviewer saw: only a photo actually served
        PIIViewLog.objects.create(
            user=request.user,
            application=app,
            field=PIIViewLog.Field.CARD_PHOTO,
            ip=client_ip(request),
        )
    response = FileResponse(photo, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
