"""The current request's client IP, for audit records written deep inside services."""

from contextvars import ContextVar

_ip: ContextVar[str | None] = ContextVar("request_ip", default=None)


def current_ip() -> str | None:
    return _ip.get()


def set_ip(value: str | None):
    return _ip.set(value)


def reset_ip(token) -> None:
    _ip.reset(token)


def client_ip(request) -> str | None:
    # Behind the proxy of docker-compose.yml the client address arrives in X-Real-IP.
    from django.conf import settings

    if getattr(settings, "USE_X_REAL_IP", False):
        return request.META.get("HTTP_X_REAL_IP") or request.META.get("REMOTE_ADDR")
    return request.META.get("REMOTE_ADDR")
