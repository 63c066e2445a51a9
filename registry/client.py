"""The education registry (学信网 / 教育部学籍学历数据) behind an interface.

`RegistryClient` is what the verification service depends on; `HttpRegistryClient` talks to
the real registry or to our simulator over HTTP. Every answer is one of three typed results:
`Found(record)`, `NotFound()` or `Unavailable(reason)`. Server errors, timeouts, refused
connections, bad credentials and bodies we cannot read are all `Unavailable` — the check is
retried later; only a well-formed "no such number" answer is `NotFound`.

Wire format (the simulator serves it; an adapter for the production registry maps to it):
    GET {base}/api/v1/student-status?number=<exact number>
    GET {base}/api/v1/certificates?number=<exact number>
    200 {"result": "found", "record": {...}}  |  200 {"result": "not_found"}
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import httpx

logger = logging.getLogger(__name__)

STUDENT = "student"
CERTIFICATE = "certificate"

RECORD_FIELDS = (
    "number",
    "name",
    "id_number",
    "institution",
    "major",
    "level",
    "learning_form",
    "date",
    "status",
)


@dataclass(frozen=True)
class RegistryRecord:
    """One student status (学籍) or certificate (毕业证书) as the registry returns it."""

    kind: str  # STUDENT or CERTIFICATE
    number: str
    name: str
    id_number: str
    institution: str  # 院校
    major: str  # 专业
    level: str  # 专科/大专, 本科, 研究生 …
    learning_form: str  # 成人高等教育, 自学考试, 全日制 …
    date: date  # student status registered (取得学籍) or certificate issued
    status: str  # 在籍, 毕业, 注销 …
    raw: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_json(cls, kind: str, data: dict) -> RegistryRecord:
        missing = [f for f in RECORD_FIELDS if not isinstance(data.get(f), str)]
        if missing:
            raise ValueError(f"record lacks fields: {', '.join(missing)}")
        return cls(
            kind=kind,
            number=data["number"],
            name=data["name"],
            id_number=data["id_number"],
            institution=data["institution"],
            major=data["major"],
            level=data["level"],
            learning_form=data["learning_form"],
            date=date.fromisoformat(data["date"]),
            status=data["status"],
            raw=dict(data),
        )


@dataclass(frozen=True)
class Found:
    record: RegistryRecord


@dataclass(frozen=True)
class NotFound:
    pass


@dataclass(frozen=True)
class Unavailable:
    reason: str  # machine word: timeout, connect_error, server_error, malformed, auth, …


LookupResult = Found | NotFound | Unavailable


class RegistryClient(Protocol):
    def lookup_student(self, number: str) -> LookupResult: ...

    def lookup_certificate(self, number: str) -> LookupResult: ...


class HttpRegistryClient:
    """httpx over a keep-alive connection per thread (Celery's threads pool shares this
    object). Credentials: a bearer token when given, else HTTP basic user/password."""

    def __init__(self, base_url, user="", password="", token="", timeout=5.0, transport=None):
        self.base_url = base_url.rstrip("/")
        self.timeout = httpx.Timeout(timeout)
        self._headers = {"Accept": "application/json"}
        self._auth = None
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        elif user:
            self._auth = httpx.BasicAuth(user, password)
        self._transport = transport
        self._local = threading.local()

    @classmethod
    def from_settings(cls) -> HttpRegistryClient:
        from django.conf import settings

        from registry import conf

        return cls(
            settings.REGISTRY_URL,
            user=settings.REGISTRY_USER or "",
            password=settings.REGISTRY_PASSWORD or "",
            token=conf.get("REGISTRY_TOKEN"),
            timeout=float(settings.REGISTRY_TIMEOUT),
        )

    def _client(self) -> httpx.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = httpx.Client(
                timeout=self.timeout,
                headers=self._headers,
                auth=self._auth,
                transport=self._transport,
            )
            self._local.client = client
        return client

    def lookup_student(self, number: str) -> LookupResult:
        return self._lookup("student-status", STUDENT, number)

    def lookup_certificate(self, number: str) -> LookupResult:
        return self._lookup("certificates", CERTIFICATE, number)

    def _lookup(self, resource: str, kind: str, number: str) -> LookupResult:
        url = f"{self.base_url}/api/v1/{resource}"
        try:
            response = self._client().get(url, params={"number": number})
        except httpx.TimeoutException:
            return Unavailable("timeout")
        except httpx.ConnectError:
            return Unavailable("connect_error")
        except httpx.HTTPError as exc:  # reset connection, protocol error …
            return Unavailable(f"transport_error:{type(exc).__name__}")
        if response.status_code in (401, 403):
            return Unavailable("auth")
        if response.status_code == 429:
            return Unavailable("rate_limited")
        if response.status_code != 200:
            return Unavailable(f"http_{response.status_code}")
        try:
            body = response.json()
            result = body["result"]
            if result == "not_found":
                return NotFound()
            if result == "found":
                return Found(RegistryRecord.from_json(kind, body["record"]))
        except (ValueError, KeyError, TypeError):
            pass
        return Unavailable("malformed")
