"""API errors as `{"code": "<machine_code>", "detail": "<Chinese message>"}` (SPEC §11).

Every code is registered in `subsidy.codes` with its HTTP status and Chinese text: an error
raised with a code alone answers the registered status and text."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response

from subsidy import codes


class ApiError(exceptions.APIException):
    """Raise with a registered machine code; the status is the code's (subsidy.codes), the
    message its text unless a more specific `detail` is given. `extra` goes into the body."""

    def __init__(
        self,
        code: str,
        detail: str | None = None,
        status_code: int | None = None,
        headers=None,
        **extra,
    ):
        self.status_code = codes.check_status(code, status_code)
        self.code = code
        self.extra = extra
        self.headers = headers or {}
        super().__init__(detail=detail or codes.text(code), code=code)


def exception_handler(exc, context):
    # DRF's views module reads the parser classes when imported, and ours import this one.
    from rest_framework.views import exception_handler as drf_handler

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, ValidationError):
        code = exc.code or "invalid"
        exc = ApiError(code, " ".join(exc.messages))
    if isinstance(exc, ApiError):
        body = {"code": exc.code, "detail": str(exc.detail), **exc.extra}
        return Response(body, status=exc.status_code, headers=exc.headers)
    response = drf_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        data = exc.detail
        if isinstance(data, dict) and "code" in data and "detail" in data:
            code = str(data["code"])
            body = {"code": code, "detail": str(data["detail"])}
        else:
            code = "invalid"
            body = {"code": code, "detail": codes.text(code), "errors": data}
        response.data = body
        response.status_code = codes.check_status(code, 400)
        return response
    found = exc.get_codes() if hasattr(exc, "get_codes") else None
    code = found if isinstance(found, str) else "invalid"
    response.data = {"code": code, "detail": codes.text(code)}
    return response
