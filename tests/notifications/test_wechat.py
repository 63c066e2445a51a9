"""The WeChat subscribe-message adapter against a real HTTP server on a loopback port."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from notifications.channels import ChannelError, PermanentChannelError
from notifications.channels.wechat import WeChatChannel
from notifications.models import DeliveryStatus, Notification, NotificationKind
from notifications.services import delivery

pytestmark = pytest.mark.django_db


class FakeWeChat:
    """Hands out tokens T1, T2, ...; answers sends from a script of bodies (default ok)."""

    def __init__(self):
        self.requests = []
        self.send_script = []
        self.tokens_issued = 0
        self.valid_tokens = set()
        self.delay = 0.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, body):
                raw = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                try:
                    self.wfile.write(raw)
                except BrokenPipeError:  # the client gave up waiting (timeout test)
                    pass

            def do_GET(self):
                url = urlparse(self.path)
                fake.requests.append(("GET", url.path, parse_qs(url.query), None))
                q = parse_qs(url.query)
                if q.get("appid") != ["wx-test-app"] or q.get("secret") != ["s3cret"]:
                    return self._reply({"errcode": 40013, "errmsg": "invalid appid"})
                fake.tokens_issued += 1
                token = f"T{fake.tokens_issued}"
                fake.valid_tokens.add(token)
                self._reply({"access_token": token, "expires_in": 7200})

            def do_POST(self):
                url = urlparse(self.path)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                q = parse_qs(url.query)
                fake.requests.append(("POST", url.path, q, body))
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.send_script:
                    return self._reply(fake.send_script.pop(0))
                if q.get("access_token", [""])[0] not in fake.valid_tokens:
                    return self._reply({"errcode": 40001, "errmsg": "invalid credential"})
                self._reply({"errcode": 0, "errmsg": "ok", "msgid": 1234567})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def posts(self):
        return [r for r in self.requests if r[0] == "POST"]

    def token_gets(self):
        return [r for r in self.requests if r[0] == "GET"]


@pytest.fixture
def fake_wechat(settings):
    fake = FakeWeChat()
    settings.WECHAT_APP_ID = "wx-test-app"
    settings.WECHAT_APP_SECRET = "s3cret"
    settings.WECHAT_API_BASE = fake.base
    settings.WECHAT_TEMPLATE_STATUS = "tmpl-status-001"
    yield fake
    fake.stop()


@pytest.fixture
def wechat_row(application):
    return Notification.objects.create(
        kind=NotificationKind.APPLICANT_STATUS,
        channel="wechat",
        recipient="oOpenId1234567890",
        application=application,
        text="状态更新",
        template_id="tmpl-status-001",
        data={"thing1": {"value": "学历教育补助申领"}, "phrase2": {"value": "待基层审核"}},
    )


def test_request_shape(fake_wechat, wechat_row):
    assert delivery.deliver(wechat_row.pk) == DeliveryStatus.SENT
    get = fake_wechat.token_gets()[0]
    assert get[1] == "/cgi-bin/token"
    assert get[2] == {
        "grant_type": ["client_credential"],
        "appid": ["wx-test-app"],
        "secret": ["s3cret"],
    }
    method, path, query, body = fake_wechat.posts()[0]
    assert path == "/cgi-bin/message/subscribe/send"
    assert query["access_token"] == ["T1"]
    assert body["touser"] == "oOpenId1234567890"
    assert body["template_id"] == "tmpl-status-001"
    assert body["data"]["phrase2"] == {"value": "待基层审核"}
    assert body["page"]
    wechat_row.refresh_from_db()
    assert wechat_row.channel_message_id == "1234567"


def test_token_is_cached_between_sends(fake_wechat, wechat_row):
    channel = WeChatChannel()
    channel.send(wechat_row)
    channel.send(wechat_row)
    assert len(fake_wechat.token_gets()) == 1


@pytest.mark.parametrize("errcode", [40001, 42001])
def test_token_refreshed_on_invalid_or_expired(fake_wechat, wechat_row, errcode):
    channel = WeChatChannel()
    channel.send(wechat_row)  # caches T1
    fake_wechat.valid_tokens.discard("T1")  # WeChat expired it early
    fake_wechat.send_script = [{"errcode": errcode, "errmsg": "expired"}]
    assert channel.send(wechat_row) == "1234567"
    assert len(fake_wechat.token_gets()) == 2
    assert fake_wechat.posts()[-1][2]["access_token"] == ["T2"]


def test_user_refused_43101_is_not_retried(fake_wechat, wechat_row):
    fake_wechat.send_script = [{"errcode": 43101, "errmsg": "user refuse to accept the msg"}]
    with pytest.raises(PermanentChannelError):
        WeChatChannel().send(wechat_row)
    fake_wechat.send_script = [{"errcode": 43101, "errmsg": "user refuse to accept the msg"}]
    assert delivery.deliver(wechat_row.pk) == DeliveryStatus.FAILED
    wechat_row.refresh_from_db()
    assert wechat_row.attempts == 1 and "43101" in wechat_row.last_error
    assert delivery.due_ids() == []


def test_other_errors_are_retried(fake_wechat, wechat_row):
    fake_wechat.send_script = [{"errcode": -1, "errmsg": "system error"}]
    with pytest.raises(ChannelError) as info:
        WeChatChannel().send(wechat_row)
    assert not isinstance(info.value, PermanentChannelError)
    fake_wechat.send_script = [{"errcode": 45009, "errmsg": "reach max api daily quota limit"}]
    assert delivery.deliver(wechat_row.pk) == DeliveryStatus.PENDING
    wechat_row.refresh_from_db()
    assert "45009" in wechat_row.last_error


def test_bad_app_secret_is_a_channel_error(fake_wechat, wechat_row, settings):
    settings.WECHAT_APP_SECRET = "wrong"
    with pytest.raises(ChannelError, match="40013"):
        WeChatChannel().send(wechat_row)


def test_no_answer_after_sending_is_unconfirmed_not_resent(fake_wechat, wechat_row):
    fake_wechat.delay = 1.0
    channel = WeChatChannel(timeout=0.3)
    from notifications import channels

    channels.OVERRIDES["wechat"] = channel
    try:
        assert delivery.deliver(wechat_row.pk) == DeliveryStatus.UNCONFIRMED
    finally:
        channels.OVERRIDES.clear()
    assert delivery.due_ids() == []
    assert len(fake_wechat.posts()) == 1
