"""Request-wide middleware: the Content Security Policy header and the request IP context."""

from django.conf import settings

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
