"""One SMS as it goes to the gateway, and the ways sending it can fail (shared by
`sms.sending`, which builds and sends it, and `sms.backends`, which deliver it)."""

from dataclasses import dataclass, field


class SMSError(Exception):
    """Nothing was handed to the gateway; the caller may try again later."""


class PermanentSMSError(SMSError):
    """The gateway refuses this message as it is (bad number, template not registered, ...):
    trying again changes nothing."""


class AmbiguousSMSError(SMSError):
    """The request left and no answer came back: the message may have been sent."""


@dataclass(frozen=True)
class Message:
    phone: str
    key: str
    params: dict
    provider_code: str
    sign_name: str
    text: str  # as the recipient reads it: 【签名】 and the rendered template
    out_id: str = field(default="", compare=False)  # our id of the message (the outbox key)
