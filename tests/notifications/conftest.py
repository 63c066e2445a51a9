"""Fixtures for the notification tests: a recording channel and the applicant's application."""

import threading

import pytest

from notifications import channels
from notifications.channels import BaseChannel, ChannelError
from tests.factories import ApplicationFactory


class RecordingChannel(BaseChannel):
    """Records every send; can be told to fail the first `fail` calls."""

    def __init__(self, fail=0, error=ChannelError, delay=0.0):
        self.sent = []
        self.fail = fail
        self.error = error
        self.delay = delay
        self._lock = threading.Lock()

    def send(self, notification):
        import time

        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            if self.fail > 0:
                self.fail -= 1
                raise self.error("通道暂时不可用")
            self.sent.append((notification.recipient, notification.text))
            return f"msg-{len(self.sent)}"


@pytest.fixture
def recording():
    """Replace the SMS channel by a recorder for the test."""
    fake = RecordingChannel()
    channels.OVERRIDES["sms"] = fake
    yield fake
    channels.OVERRIDES.clear()


@pytest.fixture
def sms_mode(settings):
    settings.NOTIFICATION_CHANNEL = "sms"


@pytest.fixture
def application(campaign, member):
    return ApplicationFactory(campaign=campaign, member=member, status="pending_grassroots")
