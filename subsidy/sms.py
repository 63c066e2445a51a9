"""Pluggable SMS backends, chosen like Django's e-mail backends (SMS_BACKEND).

`console` prints, `file` writes one file per message (SMS_FILE_PATH) holding the phone number
and the text, `provider` posts to a real gateway (SMS_PROVIDER_URL / SMS_PROVIDER_KEY), and
`locmem` keeps messages in memory for tests. A dotted path selects any other class.
"""

import logging
import threading
import time
import uuid
from pathlib import Path

import httpx
from django.conf import settings
from django.utils.module_loading import import_string

from unions.pii import mask_phone

log = logging.getLogger(__name__)


class SMSError(Exception):
    """The message could not be handed to the channel; the caller may retry."""


class BaseSMSBackend:
    def send(self, phone: str, text: str) -> str:
        """Send one message; return the channel's message id."""
        raise NotImplementedError


class ConsoleBackend(BaseSMSBackend):
    def send(self, phone, text):
        print(f"[SMS to {phone}] {text}", flush=True)
        return uuid.uuid4().hex


class FileBackend(BaseSMSBackend):
    def __init__(self, path=None):
        self.path = Path(path or settings.SMS_FILE_PATH)

    def send(self, phone, text):
        self.path.mkdir(parents=True, exist_ok=True)
        message_id = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        (self.path / f"{message_id}.txt").write_text(f"To: {phone}\n\n{text}\n", encoding="utf-8")
        return message_id


class LocmemBackend(BaseSMSBackend):
    outbox: list[tuple[str, str]] = []
    _lock = threading.Lock()

    def send(self, phone, text):
        with self._lock:
            LocmemBackend.outbox.append((phone, text))
        return uuid.uuid4().hex


class ProviderBackend(BaseSMSBackend):
    """Adapter for an HTTP SMS gateway: POST {phone, text} with a bearer key, expects
    {"id": ...}. Errors and timeouts raise SMSError so callers retry."""

    def __init__(self, url=None, key=None, timeout=5.0):
        self.url = url or settings.SMS_PROVIDER_URL
        self.key = key or settings.SMS_PROVIDER_KEY
        self.timeout = timeout

    def send(self, phone, text):
        if not self.url:
            raise SMSError("SMS_PROVIDER_URL is not configured")
        try:
            response = httpx.post(
                self.url,
                json={"phone": phone, "text": text},
                headers={"Authorization": f"Bearer {self.key}"},
                timeout=self.timeout,
            )
            response.raise_for_status()
            return str(response.json().get("id", ""))
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("SMS provider failed for %s: %s", mask_phone(phone), exc)
            raise SMSError(str(exc)) from exc


BACKENDS = {
    "console": ConsoleBackend,
    "file": FileBackend,
    "locmem": LocmemBackend,
    "provider": ProviderBackend,
}


def get_backend(name: str | None = None) -> BaseSMSBackend:
    name = name or settings.SMS_BACKEND
    cls = BACKENDS.get(name) or import_string(name)
    return cls()


def send_sms(phone: str, text: str) -> str:
    return get_backend().send(phone, text)
