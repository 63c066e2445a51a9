"""A small reverse proxy for tests: one real proxy hop in front of the live server, doing what
deploy/nginx.conf does with the client address (appends the peer it saw to X-Forwarded-For,
drops the client's X-Real-IP), and an HTTP client that connects from a chosen loopback address
(127.0.0.2, 127.0.0.3, … are all this machine), so one test has many clients."""

import http.client
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode, urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "x-real-ip"}


class Proxy:
    """Listens on 127.0.0.1; forwards from 127.0.0.1 to the upstream (the live server)."""

    def __init__(self, upstream_url: str):
        target = urlsplit(upstream_url)
        upstream = (target.hostname, target.port)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                seen = self.client_address[0]
                prior = self.headers.get("X-Forwarded-For")
                headers["X-Forwarded-For"] = f"{prior}, {seen}" if prior else seen
                headers["X-Forwarded-Proto"] = "http"
                conn = http.client.HTTPConnection(*upstream, source_address=("127.0.0.1", 0))
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for k, v in answer.getheaders():
                    if k.lower() not in HOP_BY_HOP | {"content-length"}:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class Client:
    """A browser-like client (cookies, CSRF token) connecting from `source` to `base_url`."""

    def __init__(self, base_url: str, source: str):
        target = urlsplit(base_url)
        self.host, self.port, self.source = target.hostname, target.port, source
        self.cookies = {}

    def request(self, method, path, form=None, headers=None, json_body=None):
        conn = http.client.HTTPConnection(self.host, self.port, source_address=(self.source, 0))
        all_headers = dict(headers or {})
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        if json_body is not None:
            body = json_body
            all_headers["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        response.text = response.read().decode("utf-8", "replace")
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        conn.close()
        return response

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post_form(self, path, form, page=None, **kw):
        """POST a form with the CSRF token of `page` (fetched first)."""
        html = self.get(page or path).text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        return self.request("POST", path, form={**form, "csrfmiddlewaretoken": token}, **kw)
