"""Site-wide pages: the home page and the health check."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.response import Response

from subsidy import codes
from subsidy.api.errors import ApiError
from subsidy.models import Campaign


def home(request):
    return render(request, "home.html", {"campaign": Campaign.current()})


@extend_schema(responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
def health(request):
    """Liveness for a signed-in user: the database (and Redis, when configured) answer."""
    checks = {}
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:
        raise ApiError("unavailable", "数据库暂不可用")
    if settings.REDIS_URL:
        from django.core.cache import cache

        try:
            cache.get("health-probe")
            checks["redis"] = "ok"
        except Exception:
            raise ApiError("unavailable", "缓存服务暂不可用")
    return Response({"status": "ok", **checks})


def csrf_failure(request, reason=""):
    """settings.CSRF_FAILURE_VIEW: a page left open too long, or whose sign-in changed, says
    so in Chinese (Django's own page speaks of DEBUG settings)."""
    return render(request, "403_csrf.html", status=403)


def server_error(request):
    """settings' handler500: JSON for /api/ (the mini-program parses every answer), the
    Chinese page for the rest. Rendered without the request's context, as Django's own."""
    if request.path.startswith("/api/"):
        error = codes.lookup("server_error")
        return JsonResponse({"code": error.code, "detail": error.text}, status=error.status)
    from django.views.defaults import server_error as page

    return page(request)


def favicon(request):
    from django.shortcuts import redirect
    from django.templatetags.static import static

    return redirect(static("img/favicon.svg"), permanent=True)
