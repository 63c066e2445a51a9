"""This app's settings, read from Django settings with environment defaults (the shared
settings module defines WECHAT_* and NOTIFICATION_CHANNEL)."""

import os

from django.conf import settings


def get(name, default):
    return getattr(settings, name, os.environ.get(name) or default)


def applicant_channel() -> str:
    """`wechat` (production: subscribe message, SMS when no openid), `sms`, `console`, `file`."""
    return get("NOTIFICATION_CHANNEL", "console")


def file_path():
    return get("NOTIFICATION_FILE_PATH", str(settings.BASE_DIR / "var" / "notifications"))


def wechat_template_status() -> str:
    return get("WECHAT_TEMPLATE_STATUS", "")


def wechat_page() -> str:
    return get("WECHAT_MINIPROGRAM_PAGE", "pages/progress/index")


MAX_ATTEMPTS = 8
LEASE_SECONDS = 120
STATS_CACHE_SECONDS = 45
STATS_STALE_SECONDS = 24 * 3600


def backoff_seconds(attempts: int) -> int:
    """30 s, 1 min, 2 min, ... capped at one hour."""
    return min(30 * 2 ** max(attempts - 1, 0), 3600)
