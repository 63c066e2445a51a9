"""Request-wide middleware: the Content Security Policy header and the request IP context."""

from django.conf import settings

from subsidy import codes
from subsidy.request_context import client_ip, reset_ip, set_ip


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = set_ip(client_ip(request))
        try:
            response = self.get_response(request)
        finally:
            reset_ip(token)
        if not request.path.startswith("/api/docs"):
            response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class DrainUnreadBodyMiddleware:
    """A request answered before its body was read — an early refusal (`intake_closed`,
    `active_application`) of a 150 KB multipart upload — would leave the body on the socket;
    gunicorn then closes the keep-alive connection and the client's next request fails with a
    network error (seen in bench_intake: hundreds of reconnects and re-uploads). The unread
    rest is read and discarded here, in chunks, never more than its Content-Length."""

    CHUNK = 64 * 1024
    # A photo (≤ 5 MB) and the form fit. A larger body is left unread: reading megabytes
    # only to keep one connection alive is not worth it, gunicorn closes that one.
    MAX_DRAIN = 8 * 1024 * 1024

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if (
            request.method in ("POST", "PUT", "PATCH")
            and 0 < length <= self.MAX_DRAIN
            and not getattr(request, "_read_started", False)
        ):
            stream = getattr(request, "_stream", None)
            try:
                while stream is not None and stream.read(self.CHUNK):
                    pass
            except OSError:  # the client went away: nothing left to keep alive
                pass
        return response


class RefuseNonUtf8FormMiddleware:
    """Input no page can read. A NUL in the query string; and a URL-encoded body declared in
    another charset than UTF-8 (old clients send latin-1):
    Django raises BadRequest on every read of request.POST — also in the CSRF check of its
    own 400 handler — so the exception escapes as a bare 500. Refused here with a 400, before
    anything reads the body; the API answers in its {"code", "detail"} shape."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.method == "POST"
            and request.content_type == "application/x-www-form-urlencoded"
            and request.encoding is not None
            and request.encoding.lower() != "utf-8"
        ):
            return _bad_encoding(request)
        if "%00" in request.META.get("QUERY_STRING", ""):
            # A NUL in a filter or search (`?q=%00`) reaches PostgreSQL, which refuses it in
            # text: a DataError, a 500, on every list page and the admin's.
            return _bad_encoding(request)
        return self.get_response(request)


def _bad_encoding(request):
    from django.http import JsonResponse
    from django.shortcuts import render

    if request.path.startswith("/api/"):
        error = codes.lookup("bad_encoding")
        return JsonResponse({"code": error.code, "detail": error.text}, status=error.status)
    return render(request, "400.html", status=400)
