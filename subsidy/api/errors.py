"""API errors as `{"code": "<machine_code>", "detail": "<Chinese message>"}` (SPEC §11)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler


class ApiError(exceptions.APIException):
    """Raise with a machine code and a Chinese message; status defaults to 400."""

    def __init__(self, code: str, detail: str, status_code: int = 400, headers=None, **extra):
        self.status_code = status_code
        self.code = code
        self.extra = extra
        self.headers = headers or {}
        super().__init__(detail=detail, code=code)


_DEFAULT_MESSAGES = {
    "not_authenticated": "请先登录",
    "authentication_failed": "登录已失效，请重新登录",
    "permission_denied": "您没有权限执行此操作",
    "not_found": "未找到该记录",
    "method_not_allowed": "不支持的请求方法",
    "throttled": "请求过于频繁，请稍后再试",
    "parse_error": "请求格式错误",
    "unsupported_media_type": "不支持的请求格式",
}


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, ValidationError):
        exc = exceptions.ValidationError(
            {"code": exc.code or "invalid", "detail": " ".join(exc.messages)}
        )
    if isinstance(exc, ApiError):
        body = {"code": exc.code, "detail": str(exc.detail), **exc.extra}
        return Response(body, status=exc.status_code, headers=exc.headers)
    response = drf_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        data = exc.detail
        if isinstance(data, dict) and "code" in data and "detail" in data:
            body = {"code": str(data["code"]), "detail": str(data["detail"])}
        else:
            body = {"code": "invalid", "detail": "提交的信息有误，请检查", "errors": data}
        response.data = body
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    codes = exc.get_codes() if hasattr(exc, "get_codes") else "error"
    code = codes if isinstance(codes, str) else "error"
    response.data = {"code": code, "detail": _DEFAULT_MESSAGES.get(code, str(exc.detail))}
    return response
