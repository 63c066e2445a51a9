"""Building and sending one templated SMS.

    from sms.sending import send, SMSError
    send("13900000001", "login_code", code="123456")

`build` checks the parameters against the catalogue entry (a missing or unknown one is a
programming error: ValueError), cleans each value to one line and cuts a notification value
to the provider's 35 characters; the text the recipient reads is rendered from the template
row (the default text until staff change it) with the signature in front.
"""

import re

from sms import catalogue
from sms.backends import get_backend
from sms.message import (  # noqa: F401 — what callers import from here (see above)
    AmbiguousSMSError,
    Message,
    PermanentSMSError,
    SMSError,
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def clean_params(key: str, params: dict) -> dict:
    """The entry's parameters as one-line strings, notification values cut to 35 characters."""
    entry = catalogue.get(key)
    given, wanted = set(params), set(entry.params)
    if given != wanted:
        raise ValueError(f"SMS template {key!r} takes {sorted(wanted)}, got {sorted(given)}")
    cleaned = {}
    for name in entry.params:
        value = _CONTROL.sub(" ", str(params[name])).strip()
        if entry.kind == catalogue.VERIFICATION:
            if not catalogue.CODE_VALUE.fullmatch(value):
                raise ValueError(f"verification code of {key!r} must be 4-6 letters or digits")
        elif len(value) > catalogue.MAX_VARIABLE:
            value = value[: catalogue.MAX_VARIABLE - 1] + "…"
        cleaned[name] = value or "-"  # a gateway refuses an empty variable
    return cleaned


def template(key: str):
    """The template row of `key`, or the catalogue's default when the row is missing."""
    from sms.models import SmsTemplate

    row = SmsTemplate.objects.filter(key=key).first()
    if row is None:
        row = SmsTemplate(key=key, text=catalogue.get(key).text)
    return row


def render(row, params: dict) -> str:
    body = catalogue.VARIABLE.sub(lambda m: params.get(m[1], ""), row.text)
    return f"【{row.effective_sign_name}】{body}"


def build(phone: str, key: str, params: dict, row=None, out_id: str = "") -> Message:
    params = clean_params(key, params)
    row = row if row is not None else template(key)
    return Message(
        phone=phone,
        key=key,
        params=params,
        provider_code=(row.provider_code or "").strip(),
        sign_name=row.effective_sign_name,
        text=render(row, params),
        out_id=out_id,
    )


def send(phone: str, key: str, out_id: str = "", **params) -> str:
    """Send template `key` to `phone`; returns the gateway's message id. Raises SMSError (or
    its PermanentSMSError / AmbiguousSMSError)."""
    return get_backend().send(build(phone, key, params, out_id=out_id))


def send_message(message: Message) -> str:
    return get_backend().send(message)
