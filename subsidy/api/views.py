"""The applicant's API (SPEC §11): sign-in, the entry check, submission, progress.

Thin: parse, call one service, answer. Errors are `{"code", "detail"}` via ApiError.
"""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    content_negotiation_class,
    parser_classes,
    permission_classes,
    renderer_classes,
)
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from subsidy.api.auth import MemberTokenAuthentication
from subsidy.api.errors import ApiError
from subsidy.api.parsers import SubmissionMultiPartParser
from subsidy.api.serializers import (
    ApplicationCreatedSerializer,
    ApplicationFormSerializer,
    EligibilitySerializer,
    ErrorSerializer,
    MyApplicationSerializer,
    MyApplicationsSerializer,
    OtpRequestSerializer,
    OtpSentSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    created_body,
)
from subsidy.forms import ApplicationForm
from subsidy.models import Application, Campaign
from subsidy.refcache import intake_campaign
from subsidy.request_context import client_ip
from subsidy.services import bank, eligibility, intake, otp, progress
from unions.models import Member


class JsonOnly(DefaultContentNegotiation):
    """The submission answers JSON to every client, whatever its Accept header (after DRF's
    own recipe, IgnoreClientContentNegotiation): no 406, and no parsing of the header for each
    of the rush's submissions. The request body's parser is chosen as usual."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _otp_error(exc: otp.OtpError) -> ApiError:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    return ApiError(exc.code, exc.detail, headers=headers)  # 429, or 503 when ours failed


def _valid(serializer_class, data):
    s = serializer_class(data=data)
    if not s.is_valid():
        field = next(iter(s.errors))
        missing = s.errors[field][0].code in ("required", "blank", "null")
        if field == "phone":
            raise ApiError("phone_required" if missing else "invalid_mobile")
        if missing:
            raise ApiError("code_required")
        raise ApiError("otp_invalid", "验证码为 6 位数字，请核对后重新输入")
    return s.validated_data


@extend_schema(
    request=OtpRequestSerializer,
    responses={
        200: OtpSentSerializer,
        400: ErrorSerializer,
        429: ErrorSerializer,
        503: ErrorSerializer,
    },
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
def request_otp(request):
    data = _valid(OtpRequestSerializer, request.data)
    try:
        ttl = otp.request_code(data["phone"], ip=client_ip(request))
    except otp.OtpError as exc:
        raise _otp_error(exc)
    return Response({"detail": "验证码已发送", "expires_in": ttl})


@extend_schema(
    request=TokenRequestSerializer,
    responses={200: TokenSerializer, 400: ErrorSerializer, 429: ErrorSerializer},
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
def obtain_token(request):
    data = _valid(TokenRequestSerializer, request.data)
    try:
        user = otp.verify_code(data["phone"], data["code"])
    except otp.OtpError as exc:
        raise _otp_error(exc)
    token, _ = Token.objects.get_or_create(user=user)
    return Response(
        {
            "token": token.key,
            "role": "reviewer" if hasattr(user, "reviewer") else "applicant",
        }
    )


@extend_schema(responses={200: EligibilitySerializer})
@api_view(["GET"])
def my_eligibility(request):
    return Response(eligibility.entry_check(request.user).as_dict())


def _member(request):
    # with its union: the entry check reads it on every submission. Token authentication
    # has loaded both with the user (`subsidy.api.auth`); a session reads them here.
    member = getattr(request.user, "member", None)
    if member is not None and not Member.union.is_cached(member):
        member = Member.objects.select_related("union").get(pk=member.pk)
    if member is None:
        reasons = eligibility.check(None, Campaign.current())
        raise ApiError(reasons[0].code, reasons[0].detail)
    return member


@extend_schema(
    request={"multipart/form-data": ApplicationFormSerializer},
    parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER)],
    responses={
        200: ApplicationCreatedSerializer,
        201: ApplicationCreatedSerializer,
        400: ErrorSerializer,
        403: ErrorSerializer,
        409: ErrorSerializer,
        503: ErrorSerializer,
    },
)
@api_view(["POST"])
@authentication_classes([MemberTokenAuthentication, SessionAuthentication])
@parser_classes([SubmissionMultiPartParser])
@renderer_classes([JSONRenderer])
@content_negotiation_class(JsonOnly)
def create_application(request):
    """Multipart form of SPEC §4 step 3 → 201 {id, status, submitted_at, queue_number}.
    `Idempotency-Key` header (1–64 printable ASCII characters): a retry with the same key and
    the same form answers 200 with the same application; the same key with another form
    answers 409 `idempotency_key_reused`. A new attempt (after a rejection) needs a new key."""
    member = _member(request)
    campaign = intake_campaign.get()
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= 64 and key.isascii() and key.isprintable()):
        # A longer key was cut to 64 characters: two different ones could collide.
        raise ApiError("idempotency_key_invalid")
    try:
        app = checked = intake.precheck(member, campaign, key)  # or the retried request's
        if isinstance(checked, Application):
            _same_request_or_refuse(checked, request.data)
        if isinstance(checked, intake.Prechecked):
            form = ApplicationForm(request.data, request.FILES)
            if not form.is_valid():
                errors = form.error_list()
                raise ApiError(
                    errors[0]["code"], errors[0]["detail"], errors=errors, warnings=form.warnings
                )
            app = intake.submit(
                member, campaign, form.submission_data(), idempotency_key=key, prechecked=checked
            )
    except intake.IntakeRefused as exc:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        raise ApiError(exc.code, exc.detail, headers=headers)
    body = created_body(app)
    return Response(body, status=200 if app.replayed else 201)


def _same_request_or_refuse(app, data) -> None:
    """A key names one request: a retry carries the same form. A different number, account
    or type under a key already used is another application, refused rather than answered
    with the first one (which would drop the new data without a word)."""
    kind, number, account = (
        data.get(name) or "" for name in ("kind", "study_number", "bank_account")
    )
    texts = all(isinstance(v, str) for v in (kind, number, account))  # a file part is not
    sent = (kind.strip(), number.strip(), bank.normalise_account(account)) if texts else None
    if sent != (app.kind, app.study_number, app.bank_account):
        raise ApiError("idempotency_key_reused")


@extend_schema(responses={200: MyApplicationsSerializer})
@api_view(["GET"])
def my_applications(request):
    """Own applications, every attempt with its timeline, plus the hotline and the FAQ."""
    member = getattr(request.user, "member", None)
    help_ = progress.help_context(request.user)
    return Response(
        {
            "results": progress.progress_of(member),
            "hotline": help_["hotline"],
            "faqs": [{"question": f.question, "answer": f.answer} for f in help_["faqs"]],
        }
    )


@extend_schema(responses={200: MyApplicationSerializer, 404: ErrorSerializer})
@api_view(["GET"])
def my_application(request, pk: int):
    app = Application.objects.of_user(request.user).filter(pk=pk).first()
    if app is None:
        raise Http404
    return Response(progress.describe(app))
