"""SMS (the sign-in codes' backends), e-mail, and the development channels."""

import logging
from pathlib import Path

from django.conf import settings
from django.core.mail import send_mail

from notifications import conf
from notifications.channels import BaseChannel, ChannelError
from subsidy import sms

log = logging.getLogger(__name__)


class SMSChannel(BaseChannel):
    name = "sms"

    def send(self, notification):
        try:
            return sms.send_sms(notification.recipient, notification.text) or ""
        except sms.SMSError as exc:
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
