"""Every test-only switch and delay of the project, in one place.

A concurrency rule is tested twice: once as it runs, and once with its protection switched off
(the control case), to show that the race the protection prevents really happens. The
switches that turn a protection off, and the delays that widen a race window so the control is
deterministic, live here and nowhere else: services read them through `on()` / `pause()`,
tests set them through the `hooks` fixture (tests/conftest.py), which puts the defaults back
after every test. Production code never sets them, no SQL statement carries them, and outside
tests nothing can: `override()` refuses under production settings (DJANGO_ENV=production),
and production settings refuse SUBSIDY_TESTING.

Adding one: a field below with its production value as the default, one line saying which
protection or window it is, a read in the service (`testhooks.on("…")` for a protection,
`testhooks.pause("…")` for a delay) and a control test that sets it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, fields, replace

from django.conf import settings


@dataclass(frozen=True)
class Hooks:
    # Protections (True = on, as in production); a control test switches one off.
    intake_locking: bool = True  # subsidy.services.intake: the guarded claim of a place (R1)
    otp_attempt_locking: bool = True  # subsidy.services.otp: the atomic claim of a guess
    payouts_allocation_lock: bool = True  # payouts.services.locking: the campaign's lock
    review_locking: bool = True  # reviews.services.decisions: row lock + guarded write
    notification_claim_locking: bool = True  # notifications.services.delivery.claim
    # Delays in seconds (0 = none, as in production), each inside one race window.
    intake_race_delay: float = 0  # between the unlocked count and the insert
    otp_race_delay: float = 0  # between the unlocked read of attempts and the write
    review_delay: float = 0  # inside a decision, before the transition is written
    notification_claim_delay: float = 0  # between the unlocked read and claim of an outbox row


PRODUCTION = Hooks()
_current = PRODUCTION
_lock = threading.Lock()


class Refused(RuntimeError):
    """A test hook changed under production settings."""


def current() -> Hooks:
    return _current


def on(name: str) -> bool:
    """Is the protection `name` on? Always, except in a control test."""
    return bool(getattr(_current, name))


def pause(name: str) -> None:
    """Sleep for the delay `name` (none outside tests)."""
    seconds = getattr(_current, name)
    if seconds:
        time.sleep(seconds)


def set_hooks(**changes) -> Hooks:
    """Change hooks (tests only) and return the previous set; `reset()` or `override()` put
    them back."""
    global _current
    if getattr(settings, "PRODUCTION", False):
        raise Refused("test hooks cannot be changed under production settings")
    unknown = set(changes) - {f.name for f in fields(Hooks)}
    if unknown:
        raise TypeError(f"unknown test hook(s): {', '.join(sorted(unknown))}")
    with _lock:
        previous = _current
        _current = replace(_current, **changes)
    return previous


def reset() -> None:
    global _current
    with _lock:
        _current = PRODUCTION


@contextlib.contextmanager
def override(**changes):
    global _current
    previous = set_hooks(**changes)
    try:
        yield _current
    finally:
        with _lock:
            _current = previous


def pause_inside_statement(anchor: str, seconds: float, times: int = 1):
    """An execute wrapper (`connection.execute_wrapper(...)`, PostgreSQL) for a control test:
    the next `times` statements containing `anchor` sleep *inside* themselves, after their
    snapshot is taken and before they write — so a run's snapshot stays old while others
    commit. The statement is rewritten on its way to the database in the test's own
    connection; the production SQL carries no delay."""
    left = [times]
    guard = threading.Lock()
    sleep = f" AND EXISTS (SELECT 1 FROM pg_sleep({float(seconds):.3f}))"

    def wrapper(execute, sql, params, many, context):
        with guard:
            hit = left[0] > 0 and anchor in sql
            if hit:
                left[0] -= 1
        if hit:
            sql = sql.replace(anchor, anchor + sleep, 1)
        return execute(sql, params, many, context)

    return wrapper
