"""WeChat mini-program subscribe messages (订阅消息): the applicant authorised 微信通知提醒.

Calls the official API: an access token from `GET /cgi-bin/token` (app id / secret from the
environment: WECHAT_APP_ID, WECHAT_APP_SECRET; WECHAT_API_BASE points tests at a local fake
server), cached until shortly before it expires and fetched anew when WeChat says it is
invalid or expired (errcode 40001, 40014, 42001); then
`POST /cgi-bin/message/subscribe/send?access_token=…` with touser (openid), template_id,
page and data. errcode 43101 (the user refused / has no subscription left) and other
"this will never work" codes are permanent — no retry; everything else is retried.
"""

import logging

import httpx
from django.conf import settings
from django.core.cache import cache

from notifications import conf
from notifications.channels import (
    AmbiguousDelivery,
    BaseChannel,
    ChannelError,
    PermanentChannelError,
)

log = logging.getLogger(__name__)

TOKEN_INVALID = {40001, 40014, 42001}
# 43101 user refused; 40003 bad openid; 40037 bad template id; 47003 bad template data.
PERMANENT = {43101, 40003, 40037, 47003}


class WeChatChannel(BaseChannel):
    name = "wechat"

    def __init__(self, app_id=None, secret=None, base=None, timeout=5.0):
        self.app_id = app_id or settings.WECHAT_APP_ID
        self.secret = secret or settings.WECHAT_APP_SECRET
        self.base = (base or settings.WECHAT_API_BASE).rstrip("/")
        self.timeout = timeout

    @property
    def _token_key(self):
        return f"wechat:access_token:{self.app_id}"

    def access_token(self, refresh=False) -> str:
        if not refresh:
            token = cache.get(self._token_key)
            if token:
                return token
        if not (self.app_id and self.secret):
            raise ChannelError("WECHAT_APP_ID / WECHAT_APP_SECRET are not configured")
        try:
            r = httpx.get(
                f"{self.base}/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self.app_id,
                    "secret": self.secret,
                },
                timeout=self.timeout,
            )
            body = r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ChannelError(f"token request failed: {exc}") from exc
        token = body.get("access_token")
        if not token:
            raise ChannelError(f"token errcode {body.get('errcode')}: {body.get('errmsg')}")
        ttl = max(int(body.get("expires_in", 7200)) - 300, 60)
        cache.set(self._token_key, token, ttl)
        return token

    def _post(self, token, payload):
        try:
            r = httpx.post(
                f"{self.base}/cgi-bin/message/subscribe/send",
                params={"access_token": token},
                json=payload,
                timeout=self.timeout,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ChannelError(f"connect failed: {exc}") from exc
        except httpx.TimeoutException as exc:
            # The request was sent; WeChat may have delivered it.
            raise AmbiguousDelivery(f"no answer: {exc}") from exc
        except httpx.HTTPError as exc:
            raise ChannelError(str(exc)) from exc
        try:
            return r.json()
        except ValueError as exc:
            raise ChannelError(f"HTTP {r.status_code}, not JSON") from exc

    def send(self, notification):
        payload = {
            "touser": notification.recipient,
            "template_id": notification.template_id or conf.wechat_template_status(),
            "page": conf.wechat_page(),
            "data": notification.data,
            "lang": "zh_CN",
        }
        body = self._post(self.access_token(), payload)
        code = int(body.get("errcode", 0) or 0)
        if code in TOKEN_INVALID:
            body = self._post(self.access_token(refresh=True), payload)
            code = int(body.get("errcode", 0) or 0)
        if code == 0:
            return str(body.get("msgid", ""))
        message = f"errcode {code}: {body.get('errmsg', '')}"
        if code in PERMANENT:
            raise PermanentChannelError(message)
        raise ChannelError(message)
