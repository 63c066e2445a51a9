"""Staff password sign-in: the per-account throttle next to django-axes' lockout.

django-axes locks an account *from one client address* after AXES_FAILURE_LIMIT wrong
passwords (AXES_LOCKOUT_PARAMETERS = username + address), so a stranger elsewhere cannot lock
a reviewer out. A burst against one account from many addresses is slowed here instead:
past STAFF_ACCOUNT_SOFT_LIMIT failures in STAFF_ACCOUNT_WINDOW seconds, from whatever
addresses, each further attempt on that account must wait a gap that doubles with every
failure up to STAFF_ACCOUNT_MAX_GAP seconds — at most one guess a minute, while the reviewer
can still sign in (after at most that wait). A success clears the count.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)


def _conf(name, default):
    return int(getattr(settings, name, default))


def _key(username: str) -> str:
    return f"signin:account:{username.strip().lower()[:150]}"


def wait_seconds(username: str) -> int | None:
    """Seconds before this account may try a password again, or None."""
    try:
        until = cache.get(_key(username) + ":gate")
    except Exception:  # the cache is down: django-axes (database) still locks per address
        log.warning("staff sign-in throttle unavailable (cache error)", exc_info=True)
        return None
    if until is None:
        return None
    left = int(until - time.time()) + 1
    return left if left > 0 else None


def record_failure(username: str) -> None:
    key = _key(username)
    window = _conf("STAFF_ACCOUNT_WINDOW", 900)
    try:
        if cache.add(key, 1, timeout=window):
            failures = 1
        else:
            failures = cache.incr(key)
        over = failures - _conf("STAFF_ACCOUNT_SOFT_LIMIT", 10)
        if over > 0:
            gap = min(2 ** min(over, 16), _conf("STAFF_ACCOUNT_MAX_GAP", 60))
            cache.set(key + ":gate", time.time() + gap, timeout=gap)
    except Exception:
        log.warning("staff sign-in throttle unavailable (cache error)", exc_info=True)


def clear(username: str) -> None:
    try:
        cache.delete_many([_key(username), _key(username) + ":gate"])
    except Exception:
        log.warning("staff sign-in throttle unavailable (cache error)", exc_info=True)
