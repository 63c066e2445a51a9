"""SMS (templates through the `sms` app's backends), e-mail, and the development channels."""

import logging
from pathlib import Path

from django.conf import settings
from django.core.mail import send_mail

from notifications import conf
from notifications.channels import (
    AmbiguousDelivery,
    BaseChannel,
    ChannelError,
    PermanentChannelError,
)
from sms import catalogue
from sms.sending import (
    AmbiguousSMSError,
    PermanentSMSError,
    SMSError,
    build,
    send_message,
)

log = logging.getLogger(__name__)


class SMSChannel(BaseChannel):
    """The row's `template_id` is the SMS template's key (sms.catalogue) and `data` its
    parameters; the gateway gets the template as registered now, the outbox key as OutId."""

    name = "sms"

    def send(self, notification):
        key = notification.template_id
        if key not in catalogue.CATALOGUE:
            raise PermanentChannelError("没有短信模板，短信平台不能发送自由文本")
        try:
            message = build(
                notification.recipient, key, notification.data or {}, out_id=str(notification.key)
            )
            return send_message(message) or ""
        except ValueError as exc:  # parameters that do not fit the template
            raise PermanentChannelError(f"短信参数不符合模板：{exc}") from exc
        except PermanentSMSError as exc:
            raise PermanentChannelError(str(exc)) from exc
        except AmbiguousSMSError as exc:
            raise AmbiguousDelivery(str(exc)) from exc
        except SMSError as exc:
            raise ChannelError(str(exc)) from exc


class EmailChannel(BaseChannel):
    name = "email"

    def send(self, notification):
        try:
            send_mail(
                notification.subject or "求学圆梦工作提醒",
                notification.text,
                getattr(settings, "DEFAULT_FROM_EMAIL", None),
                [notification.recipient],
            )
        except OSError as exc:
            raise ChannelError(str(exc)) from exc
        return ""


class ConsoleChannel(BaseChannel):
    name = "console"

    def send(self, notification):
        print(f"[通知 {notification.key} → {notification.masked_recipient}] {notification.text}")
        return str(notification.key)


class FileChannel(BaseChannel):
    """One file per message, named by the idempotency key: it can answer `already_sent`."""

    name = "file"

    def __init__(self, path=None):
        self.path = Path(path or conf.file_path())

    def _file(self, notification):
        return self.path / f"{notification.key}.txt"

    def already_sent(self, notification):
        return str(notification.key) if self._file(notification).exists() else None

    def send(self, notification):
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self._file(notification).with_suffix(".tmp")
        tmp.write_text(f"To: {notification.recipient}\n\n{notification.text}\n", encoding="utf-8")
        tmp.replace(self._file(notification))  # atomic: a half-written file is never "sent"
        return str(notification.key)
