"""An SMS gateway simulator speaking Aliyun SMS `SendSms` (dysmsapi 2017-05-25), so the
provider backend (`sms.backends.ProviderBackend`) is exercised over real HTTP.

It checks what the real gateway checks, as documented (help.aliyun.com, SendSms and its
error codes) and answers the same JSON (`{"Code", "Message", "RequestId", "BizId"}`):
the RPC signature (version 1.0, HMAC-SHA1 with the AccessKey secret; `SignatureDoesNotMatch`,
`InvalidAccessKeyId.NotFound`), a nonce used once (`SignatureNonceUsed`), a mainland mobile
(`isv.MOBILE_NUMBER_ILLEGAL`), an approved signature (`isv.SMS_SIGNATURE_ILLEGAL`), an
approved template (`isv.SMS_TEMPLATE_ILLEGAL`), TemplateParam a JSON object of strings
(`isv.INVALID_JSON_PARAM`) carrying every variable of the template
(`isv.TEMPLATE_MISSING_PARAMETERS`), each at most 35 characters (`isv.PARAM_LENGTH_LIMIT`;
a verification code 4–6 letters or digits).

Templates and signatures are registered through the control endpoint; with none registered
(the mounted development default) any `SMS_<digits>` code and any signature are accepted
and only the parameters' shape is checked.

    POST {base}/_control {"templates": {"SMS_1001": ["code"]}, "signs": ["求学圆梦"],
                          "fault": "isv.BUSINESS_LIMIT_CONTROL", "count": 1,
                          "mode": "ok"|"hang"|"down", "latency_ms": 0, "reset": true}
    GET  {base}/_control → state, counters and the messages accepted (newest last)

Run on its own:  python -m simulators.sms.simulator --port 8403
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import re
import sys
import threading
import time
import uuid
from urllib.parse import parse_qsl, quote

from simulators.registry.simulator import DROP, Answer, serve

MOBILE = re.compile(r"1[3-9][0-9]{9}")
TEMPLATE_CODE = re.compile(r"SMS_[0-9]{4,12}")
VARIABLE = re.compile(r"\$\{([A-Za-z][A-Za-z0-9_]*)\}")
CODE = re.compile(r"[A-Za-z0-9]{4,6}")


def _json(status, data) -> Answer:
    return Answer(status, json.dumps(data, ensure_ascii=False).encode())


def _encode(value) -> str:
    return quote(str(value), safe="~")


def signature(params: dict, secret: str, method: str) -> str:
    query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{_encode('/')}&{_encode(query)}"
    mac = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


class SmsGateway:
    def __init__(self, key_id="demo-key-id", secret="demo-key-secret"):
        self.keys = {key_id: secret}
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        self.templates: dict[str, dict] = {}  # code → {"params": [...], "verification": bool}
        self.signs: set[str] = set()
        self.fault: str | None = None
        self.fault_count: int | None = None
        self.mode = "ok"
        self.latency_ms = 0
        self.release = threading.Event()
        self.nonces: set[str] = set()
        self.sent: list[dict] = []
        self.counters = {"requests": 0, "accepted": 0, "refused": 0}

    # --- control --------------------------------------------------------------------------
    def configure(self, **c) -> dict:
        with self._lock:
            if c.get("reset"):
                self.release.set()
                self.reset()
            for code, spec in (c.get("templates") or {}).items():
                if isinstance(spec, list):
                    spec = {"params": spec}
                self.templates[code] = {
                    "params": list(spec.get("params", [])),
                    "verification": bool(spec.get("verification", False)),
                }
            self.signs.update(c.get("signs") or [])
            if "fault" in c:
                self.fault = c["fault"] or None
                self.fault_count = c.get("count")
            if "mode" in c:
                if c["mode"] not in ("ok", "hang", "down"):
                    raise ValueError(f"unknown mode {c['mode']!r}")
                self.release.set()
                self.release = threading.Event()
                self.mode = c["mode"]
            if "latency_ms" in c:
                self.latency_ms = int(c["latency_ms"])
            return self.state()

    def state(self) -> dict:
        return {
            "mode": self.mode,
            "fault": self.fault,
            "count": self.fault_count,
            "templates": self.templates,
            "signs": sorted(self.signs),
            "counters": dict(self.counters),
            "sent": list(self.sent[-200:]),
        }

    def _take_fault(self) -> str | None:
        with self._lock:
            if self.fault is None:
                return None
            if self.fault_count is not None:
                if self.fault_count <= 0:
                    self.fault = self.fault_count = None
                    return None
                self.fault_count -= 1
            return self.fault

    # --- requests -------------------------------------------------------------------------
    def handle(self, method, path, query, authorization, body):
        path = path.strip("/")
        if path == "_control":
            if method == "POST":
                try:
                    return _json(200, self.configure(**json.loads(body or b"{}")))
                except (ValueError, TypeError) as exc:
                    return _json(400, {"error": str(exc)})
            with self._lock:
                return _json(200, self.state())
        if path != "":
            return _json(404, {"Code": "InvalidAction.NotFound", "Message": "no such path"})
        params = {k: v[-1] for k, v in query.items()}
        if method == "POST":
            try:
                params.update(parse_qsl((body or b"").decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError:
                return self._refuse(400, "InvalidParameter", "body is not UTF-8")
        with self._lock:
            self.counters["requests"] += 1
        if self.mode == "down":
            return DROP
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        if self.mode == "hang":
            self.release.wait(30)
            return _json(504, {"Code": "isp.GatewayTimeout"})
        return self._send(method, params)

    def _refuse(self, status, code, message) -> Answer:
        with self._lock:
            self.counters["refused"] += 1
        return _json(status, {"Code": code, "Message": message, "RequestId": uuid.uuid4().hex})

    def _send(self, method, p) -> Answer:
        if p.get("Action") != "SendSms" or p.get("Version") != "2017-05-25":
            return self._refuse(400, "InvalidAction.NotFound", "Specified api is not found")
        secret = self.keys.get(p.get("AccessKeyId", ""))
        if secret is None:
            return self._refuse(404, "InvalidAccessKeyId.NotFound", "AccessKeyId is not found")
        given = p.pop("Signature", "")
        if not hmac.compare_digest(given, signature(p, secret, method)):
            return self._refuse(400, "SignatureDoesNotMatch", "Specified signature not match")
        with self._lock:
            nonce = p.get("SignatureNonce", "")
            if not nonce or nonce in self.nonces:
                used = True
            else:
                self.nonces.add(nonce)
                used = False
        if used:
            return self._refuse(400, "SignatureNonceUsed", "Specified signature nonce was used")
        fault = self._take_fault()
        if fault:
            return self._refuse(200, fault, "simulated fault")
        phone = p.get("PhoneNumbers", "")
        if not MOBILE.fullmatch(phone):
            return self._refuse(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        sign = p.get("SignName", "")
        if (self.signs and sign not in self.signs) or not 2 <= len(sign) <= 12:
            return self._refuse(200, "isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        code = p.get("TemplateCode", "")
        template = self.templates.get(code)
        if template is None and (self.templates or not TEMPLATE_CODE.fullmatch(code)):
            return self._refuse(200, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        try:
            values = json.loads(p.get("TemplateParam") or "{}")
        except ValueError:
            values = None
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            return self._refuse(200, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        wanted = template["params"] if template else list(values)
        if [w for w in wanted if not values.get(w)]:
            return self._refuse(200, "isv.TEMPLATE_MISSING_PARAMETERS", "模板变量缺少对应参数值")
        if template and template["verification"]:
            if not all(CODE.fullmatch(values[w]) for w in wanted):
                return self._refuse(200, "isv.INVALID_PARAMETERS", "验证码变量应为4-6位字母或数字")
        if any(len(v) > 35 for v in values.values()):
            return self._refuse(200, "isv.PARAM_LENGTH_LIMIT", "参数超出长度限制")
        biz_id = f"{int(time.time() * 1000)}^{uuid.uuid4().hex[:10]}"
        with self._lock:
            self.counters["accepted"] += 1
            self.sent.append(
                {
                    "phone": phone,
                    "sign": sign,
                    "template": code,
                    "params": values,
                    "out_id": p.get("OutId", ""),
                    "biz_id": biz_id,
                }
            )
        return _json(
            200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": uuid.uuid4().hex}
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description="Aliyun SendSms simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8403)
    parser.add_argument("--key-id", default="demo-key-id")
    parser.add_argument("--secret", default="demo-key-secret")
    args = parser.parse_args(argv)
    server = serve(args.host, args.port, SmsGateway(args.key_id, args.secret))
    host, port = server.server_address[:2]
    print(f"SMS gateway simulator listening on http://{host}:{port}/", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
