"""Bounded request rate against the registry, shared by every worker process.

A token bucket kept in Redis (one Lua script, atomic) when REDIS_URL is configured, so the
limit holds across all workers and hosts — Celery's own `rate_limit` is per worker. Without
Redis (embedded mode) an in-process bucket does the same for the single process.
REGISTRY_RATE_LIMIT is "<n>/s", "<n>/m" or "<n>/h"; empty or "0" means unlimited.
"""

from __future__ import annotations

import threading
import time

from registry.client import HttpRegistryClient, LookupResult, RegistryClient, Unavailable

_SCRIPT = """
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', key, 'tokens', tokens, 'ts', now)
redis.call('EXPIRE', key, 3600)
return tostring(wait)
"""


def parse_rate(text: str | None) -> float:
    """Requests per second; 0 for unlimited."""
    if not text:
        return 0.0
    text = str(text).strip()
    if "/" not in text:
        return float(text)
    n, unit = text.split("/", 1)
    per = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}[unit.strip().lower()]
    return float(n) / per


class TokenBucket:
    """take() → 0 when a token was taken, else the seconds until one is available (no token
    is taken then)."""

    def __init__(self, rate: float, burst: float | None = None, redis_url=None, key=None):
        self.rate = rate
        self.burst = burst or max(1.0, rate)  # one second's worth
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._ts = time.monotonic()
        self._redis = None
        self._key = key or "qxym:registry:bucket"
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)
            self._script = self._redis.register_script(_SCRIPT)

    def take(self) -> float:
        if self.rate <= 0:
            return 0.0
        if self._redis is not None:
            wait = float(self._script(keys=[self._key], args=[self.rate, self.burst, time.time()]))
            return max(wait, 0.0)
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._ts) * self.rate)
            self._ts = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.rate


class RateLimited(Unavailable):
    """No token within the allowed wait; `retry_after` seconds until one should be free."""

    def __init__(self, retry_after: float):
        super().__init__("rate_limited")
        object.__setattr__(self, "retry_after", retry_after)


class RateLimitedClient:
    """A RegistryClient decorator: every lookup first takes a token, waiting for it up to
    REGISTRY_RATE_WAIT_MAX_SECONDS (a thread of the threads pool sleeps; cheap), else answers
    RateLimited so the task is retried when tokens are free again."""

    def __init__(self, inner: RegistryClient, bucket: TokenBucket | None = None, max_wait=None):
        from django.conf import settings

        from registry import conf

        self.inner = inner
        self.bucket = bucket or TokenBucket(
            parse_rate(settings.REGISTRY_RATE_LIMIT), redis_url=settings.REDIS_URL
        )
        self.max_wait = conf.get("REGISTRY_RATE_WAIT_MAX_SECONDS") if max_wait is None else max_wait

    def _acquire(self) -> RateLimited | None:
        deadline = time.monotonic() + self.max_wait
        while True:
            try:
                wait = self.bucket.take()
            except Exception:  # Redis down: do not block checks on the limiter itself
                return None
            if wait <= 0:
                return None
            if time.monotonic() + wait > deadline:
                return RateLimited(wait)
            time.sleep(wait)

    def lookup_student(self, number: str) -> LookupResult:
        return self._acquire() or self.inner.lookup_student(number)

    def lookup_certificate(self, number: str) -> LookupResult:
        return self._acquire() or self.inner.lookup_certificate(number)


_default_client = None
_default_lock = threading.Lock()


def default_client() -> RegistryClient:
    """The process-wide client: HTTP, rate-limited."""
    global _default_client
    with _default_lock:
        if _default_client is None:
            _default_client = RateLimitedClient(HttpRegistryClient.from_settings())
        return _default_client


def reset_default_client() -> None:
    """Forget the cached client (tests change REGISTRY_URL between cases)."""
    global _default_client
    with _default_lock:
        _default_client = None
