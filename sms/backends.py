"""Pluggable SMS backends, chosen like Django's e-mail backends (SMS_BACKEND).

Each takes a `sms.message.Message` (phone, template key, the provider's template code, the
signature, the parameters, and the rendered text):

* `console` prints the rendered text (the phone masked), `file` writes one file per message
  (SMS_FILE_PATH: the phone, the text, then the template and its parameters), `locmem` keeps
  messages in memory for tests — none of them needs a registered template;
* `provider` sends the gateway's shape: Aliyun SMS `SendSms` (dysmsapi, API version
  2017-05-25) — PhoneNumbers, SignName, TemplateCode, TemplateParam (JSON), OutId — signed
  with the AccessKey (RPC signature version 1.0, HMAC-SHA1), at SMS_PROVIDER_URL with
  SMS_PROVIDER_KEY_ID / SMS_PROVIDER_KEY. Its answer codes are mapped: `OK` sent; codes that
  say the message itself cannot go (bad number, template or signature not approved, missing
  or over-long variables, blacklisted content) are permanent; flow control, quota, balance
  and system errors are retried; no answer after the request left is ambiguous (the gateway
  does not deduplicate: resending could send twice).

A dotted path selects any other class.
"""

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import httpx
from django.conf import settings
from django.utils.module_loading import import_string

from sms.message import AmbiguousSMSError, Message, PermanentSMSError, SMSError

log = logging.getLogger(__name__)


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "*" * len(phone)


class BaseSMSBackend:
    def send(self, message: Message) -> str:
        """Send one message; return the gateway's message id."""
        raise NotImplementedError


class ConsoleBackend(BaseSMSBackend):
    def send(self, message):
        print(f"[短信 {mask_phone(message.phone)} · {message.key}] {message.text}", flush=True)
        return uuid.uuid4().hex


class FileBackend(BaseSMSBackend):
    def __init__(self, path=None):
        self.path = Path(path or settings.SMS_FILE_PATH)

    def send(self, message):
        self.path.mkdir(parents=True, exist_ok=True)
        message_id = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        params = json.dumps(message.params, ensure_ascii=False)
        (self.path / f"{message_id}.txt").write_text(
            f"To: {message.phone}\n\n{message.text}\n\n"
            f"-- template {message.key} ({message.provider_code or '未登记编号'}), "
            f"sign {message.sign_name}, params {params}\n",
            encoding="utf-8",
        )
        return message_id


class LocmemBackend(BaseSMSBackend):
    """`outbox`: (phone, text) of every message; `messages`: the messages themselves."""

    outbox: list[tuple[str, str]] = []
    messages: list[Message] = []
    _lock = threading.Lock()

    @classmethod
    def clear(cls):
        with cls._lock:
            cls.outbox.clear()
            cls.messages.clear()

    def send(self, message):
        with self._lock:
            LocmemBackend.outbox.append((message.phone, message.text))
            LocmemBackend.messages.append(message)
        return uuid.uuid4().hex


# Aliyun SendSms answer codes (help.aliyun.com, 短信服务 API 错误码) that mean this message,
# as it is, will never be accepted. Everything else that is not OK is worth another try.
PERMANENT_CODES = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.TEMPLATE_PARAMS_ILLEGAL",
        "isv.INVALID_JSON_PARAM",
        "isv.INVALID_PARAMETERS",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.PARAM_NOT_SUPPORT_URL",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.SMS_SIGNATURE_SCENE_ILLEGAL",
        "isv.SIGN_STATE_ILLEGAL",
        "isv.SMS_SIGN_ILLEGAL",
        "isv.SMS_CONTENT_ILLEGAL",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
    }
)


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as Aliyun's RPC signature wants it (space %20, * %2A, ~ kept)."""
    return quote(str(value), safe="~")


def rpc_signature(params: dict, secret: str, method: str = "POST") -> str:
    """Aliyun RPC signature version 1.0: HMAC-SHA1 over METHOD&%2F&<sorted, encoded query>
    with the AccessKey secret plus "&", base64."""
    canonical = "&".join(
        f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items())
    )
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class ProviderBackend(BaseSMSBackend):
    """Aliyun SMS SendSms over HTTP (see the module docstring)."""

    def __init__(self, url=None, key_id=None, secret=None, region=None, timeout=None):
        self.url = url or settings.SMS_PROVIDER_URL
        self.key_id = key_id or settings.SMS_PROVIDER_KEY_ID
        self.secret = secret or settings.SMS_PROVIDER_KEY
        self.region = region or settings.SMS_PROVIDER_REGION
        self.timeout = timeout or settings.SMS_PROVIDER_TIMEOUT

    def request_params(self, message: Message) -> dict:
        params = {
            "Action": "SendSms",
            "Version": "2017-05-25",
            "Format": "JSON",
            "RegionId": self.region,
            "AccessKeyId": self.key_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": uuid.uuid4().hex,
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "PhoneNumbers": message.phone,
            "SignName": message.sign_name,
            "TemplateCode": message.provider_code,
            "TemplateParam": json.dumps(message.params, ensure_ascii=False, separators=(",", ":")),
        }
        if message.out_id:
            params["OutId"] = message.out_id
        params["Signature"] = rpc_signature(params, self.secret)
        return params

    def send(self, message):
        if not message.provider_code:
            raise PermanentSMSError(f"短信模板 {message.key} 未填写短信平台模板编号")
        if not (self.url and self.key_id and self.secret):
            raise SMSError("SMS_PROVIDER_URL / SMS_PROVIDER_KEY_ID / SMS_PROVIDER_KEY not set")
        where = f"{mask_phone(message.phone)} ({message.key})"
        try:
            response = httpx.post(self.url, data=self.request_params(message), timeout=self.timeout)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            log.warning("SMS gateway unreachable for %s: %s", where, type(exc).__name__)
            raise SMSError(f"短信平台无法连接：{type(exc).__name__}") from exc
        except httpx.TimeoutException as exc:
            log.warning("SMS gateway did not answer for %s", where)
            raise AmbiguousSMSError("短信平台未应答，短信可能已发出") from exc
        except httpx.HTTPError as exc:
            raise SMSError(f"短信平台请求失败：{type(exc).__name__}") from exc
        try:
            body = response.json()
            code = str(body.get("Code", ""))
        except (ValueError, AttributeError) as exc:
            raise SMSError(f"短信平台应答无法解析（HTTP {response.status_code}）") from exc
        if code == "OK":
            return str(body.get("BizId", ""))
        detail = f"{code}: {str(body.get('Message', ''))[:120]}"
        log.warning("SMS gateway refused %s: %s", where, code)
        if code in PERMANENT_CODES:
            raise PermanentSMSError(detail)
        raise SMSError(detail)


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
