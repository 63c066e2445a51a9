"""Tunables of the registry pipeline. Each is read from Django settings when defined there,
else from the environment, else the default below — so ops can tune a worker without a code
change and tests can start a worker process with other values."""

import os

from django.conf import settings

DEFAULTS = {
    # Retry with exponential backoff and full jitter: base * 2**n, capped, times U(0.5, 1).
    "REGISTRY_RETRY_BASE_SECONDS": 2.0,
    "REGISTRY_RETRY_MAX_SECONDS": 300.0,
    # After this many retries the task stops; the sweeper re-dispatches later.
    "REGISTRY_MAX_RETRIES": 10,
    # A pending_chsi application whose last dispatch is older than this has no live task.
    "REGISTRY_SWEEP_AFTER_SECONDS": 600.0,
    # Submitted but never dispatched (broker down): picked up after this grace period.
    "REGISTRY_SWEEP_GRACE_SECONDS": 60.0,
    "REGISTRY_SWEEP_BATCH": 10000,
    # Database phases of a check run under a per-process semaphore, and the thread's
    # connection is handed back while the (slow) registry call is in flight, so 64 threads
    # per worker do not hold 64 PostgreSQL connections.
    "REGISTRY_DB_CONCURRENCY": 4,
    # A lookup waits at most this long for a rate-limit token before it is retried later.
    "REGISTRY_RATE_WAIT_MAX_SECONDS": 5.0,
    # Eager (embedded) mode: no inline retries — the request must not hang on a dead registry.
    "REGISTRY_EAGER_RETRIES": 0,
    # Bearer token; when set it is sent instead of basic credentials.
    "REGISTRY_TOKEN": "",
}


def get(name):
    default = DEFAULTS[name]
    if hasattr(settings, name):
        return getattr(settings, name)
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return type(default)(raw)
