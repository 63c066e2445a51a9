"""Delivery channels behind one interface.

A channel's `send(notification)` either returns the channel's message id, or raises:
`ChannelError` — nothing was delivered, try again later; `PermanentChannelError` — it will
never work (the user refused the subscription, a bad address), do not retry;
`AmbiguousDelivery` — the request left and we could not learn the outcome (a read timeout).
A channel that can answer "did message <key> already go out?" implements `already_sent`
(check-before-send); the others return None.
"""

from django.utils.module_loading import import_string


class ChannelError(Exception):
    pass


class PermanentChannelError(ChannelError):
    pass


class AmbiguousDelivery(ChannelError):
    pass


class BaseChannel:
    name = ""

    def send(self, notification) -> str:
        raise NotImplementedError

    def already_sent(self, notification) -> str | None:
        return None


REGISTRY = {
    "wechat": "notifications.channels.wechat.WeChatChannel",
    "sms": "notifications.channels.basic.SMSChannel",
    "email": "notifications.channels.basic.EmailChannel",
    "console": "notifications.channels.basic.ConsoleChannel",
    "file": "notifications.channels.basic.FileChannel",
}

# Tests replace a channel here (e.g. with a recording fake) without patching modules.
OVERRIDES: dict[str, BaseChannel] = {}


def get_channel(name: str) -> BaseChannel:
    if name in OVERRIDES:
        return OVERRIDES[name]
    return import_string(REGISTRY[name])()
