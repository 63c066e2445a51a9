"""The registry simulator: an HTTP service with its own records, for development, demos,
tests and benchmarks — so every check is a real HTTP round trip.

Records live in a JSON or CSV file (never in the application database):
    JSON  {"students": [{...}], "certificates": [{...}]}   (or a list with a "kind" key)
    CSV   kind,number,name,id_number,institution,major,level,learning_form,date,status
    kind: student (学籍, date = 取得学籍日期) | certificate (毕业证书, date = 发证日期)
The file is re-read when it changes, so `seed_demo` can rewrite it under a running server.

Two ways to run it, one implementation (`Simulator.handle`):
  * mounted in Django under /registry-sim/ when REGISTRY_SIMULATOR_ENABLED (see
    simulators/registry/urls.py) — `make run` then checks applications by calling itself;
  * its own threaded process, for tests and benchmarks:
        python -m simulators.registry.simulator --port 8401 --data var/registry.json --latency-ms 100

Faults, switched at start (--fault …) or at run time through the control endpoint:
    POST {base}/_control  {"mode": "error"|"hang"|"malformed"|"down"|"ok",
                           "latency_ms": 100, "count": 3, "status": 503, "hang_seconds": 30}
    GET  {base}/_control  → the current state and request counters
`count` limits a fault to the next N lookups (then the simulator recovers by itself);
`down` drops the connection without an answer (as its own process; mounted in Django it
answers 503). `hang` holds the request until the client times out (or the fault is cleared).
"""

from __future__ import annotations

import argparse
import base64
import csv
import hmac
import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIELDS = (
    "number",
    "name",
    "id_number",
    "institution",
    "major",
    "level",
    "learning_form",
    "date",
    "status",
)
KINDS = {"student": "student", "students": "student", "certificate": "certificate"}
KINDS["certificates"] = "certificate"
FAULT_MODES = ("ok", "error", "hang", "malformed", "down")

DROP = object()  # answer: close the connection without a response


class StoreError(Exception):
    pass


class Store:
    """Records by (kind, exact number). No normalisation: the real registry does none."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path else None
        self._lock = threading.Lock()
        self._records: dict[tuple[str, str], dict] = {}
        self._mtime = None
        self._loaded_path = None

    def set_path(self, path):
        with self._lock:
            self.path = Path(path) if path else None

    def _maybe_reload(self):
        if self.path is None:
            raise StoreError("no data file configured")
        try:
            mtime = self.path.stat().st_mtime_ns
        except OSError as exc:
            raise StoreError(f"data file missing: {self.path}") from exc
        if mtime == self._mtime and self._loaded_path == self.path:
            return
        self._records = load_records(self.path)
        self._mtime, self._loaded_path = mtime, self.path

    def get(self, kind: str, number: str) -> dict | None:
        with self._lock:
            self._maybe_reload()
            return self._records.get((kind, number))

    def count(self) -> int:
        with self._lock:
            self._maybe_reload()
            return len(self._records)


def load_records(path: Path) -> dict[tuple[str, str], dict]:
    records: dict[tuple[str, str], dict] = {}
    try:
        if path.suffix.lower() == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as fh:
                rows = list(csv.DictReader(fh))
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                rows = [
                    dict(r, kind=r.get("kind", key))
                    for key in ("students", "certificates")
                    for r in data.get(key, [])
                ]
            else:
                rows = list(data)
    except (OSError, ValueError) as exc:
        raise StoreError(f"cannot read {path}: {exc}") from exc
    for row in rows:
        kind = KINDS.get(str(row.get("kind", "")).strip())
        if kind is None:
            raise StoreError(f"unknown record kind {row.get('kind')!r} in {path}")
        record = {f: str(row.get(f, "") or "") for f in FIELDS}
        records[(kind, record["number"])] = record
    return records


@dataclass
class Faults:
    mode: str = "ok"
    latency_ms: int = 0
    count: int | None = None  # None: until changed
    status: int = 503
    hang_seconds: float = 30.0
    release: threading.Event = field(default_factory=threading.Event)

    def public(self) -> dict:
        return {
            "mode": self.mode,
            "latency_ms": self.latency_ms,
            "count": self.count,
            "status": self.status,
            "hang_seconds": self.hang_seconds,
        }


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"


def _json(status: int, data) -> Answer:
    return Answer(status, json.dumps(data, ensure_ascii=False).encode())


class Simulator:
    def __init__(self, store: Store, user="", password="", token="", faults: Faults | None = None):
        self.store = store
        self.user, self.password, self.token = user, password, token
        self.faults = faults or Faults()
        self._lock = threading.Lock()
        self.counters = {"lookups": 0, "faulted": 0, "found": 0, "not_found": 0}

    # --- control ------------------------------------------------------------------------
    def configure(self, **changes) -> dict:
        with self._lock:
            old = self.faults
            mode = changes.get("mode", old.mode)
            if mode not in FAULT_MODES:
                raise ValueError(f"unknown fault mode {mode!r}")
            count = changes.get("count", None if "mode" in changes else old.count)
            self.faults = Faults(
                mode=mode,
                latency_ms=int(changes.get("latency_ms", old.latency_ms)),
                count=None if count in (None, "") else int(count),
                status=int(changes.get("status", old.status)),
                hang_seconds=float(changes.get("hang_seconds", old.hang_seconds)),
            )
            old.release.set()  # wake requests hanging under the previous fault
            if changes.get("reset_counters"):
                self.counters = dict.fromkeys(self.counters, 0)
            return self.faults.public()

    def state(self) -> dict:
        with self._lock:
            return {"faults": self.faults.public(), "counters": dict(self.counters)}

    def _take_fault(self) -> Faults:
        """The fault to apply to this lookup (consuming one of `count`)."""
        with self._lock:
            f = self.faults
            self.counters["lookups"] += 1
            if f.mode != "ok" and f.count is not None:
                if f.count <= 0:
                    f = self.faults = Faults(latency_ms=f.latency_ms)
                else:
                    f.count -= 1
            if f.mode != "ok":
                self.counters["faulted"] += 1
            return f

    # --- requests -----------------------------------------------------------------------
    def authorised(self, authorization: str) -> bool:
        if not (self.user or self.token):
            return True
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and self.token:
            return hmac.compare_digest(value.strip(), self.token)
        if scheme.lower() == "basic" and self.user:
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
            except ValueError:
                return False
            return hmac.compare_digest(user, self.user) and hmac.compare_digest(
                password, self.password
            )
        return False

    def handle(self, method: str, path: str, query: dict, authorization: str, body: bytes):
        """path is relative to the mount point, e.g. 'api/v1/certificates'."""
        path = path.strip("/")
        if path == "_health":
            return _json(200, {"status": "ok"})
        if not self.authorised(authorization):
            return _json(401, {"error": "unauthorised"})
        if path == "_control":
            if method == "POST":
                try:
                    changes = json.loads(body or b"{}")
                    return _json(200, self.configure(**changes))
                except (ValueError, TypeError) as exc:
                    return _json(400, {"error": str(exc)})
            return _json(200, self.state())
        kind = {"api/v1/student-status": "student", "api/v1/certificates": "certificate"}.get(path)
        if kind is None or method != "GET":
            return _json(404, {"error": "no such endpoint"})
        fault = self._take_fault()
        if fault.mode == "down":
            return DROP
        if fault.latency_ms:
            time.sleep(fault.latency_ms / 1000)
        if fault.mode == "hang":
            fault.release.wait(fault.hang_seconds)
            return _json(504, {"error": "gateway timeout"})
        if fault.mode == "error":
            return _json(fault.status, {"error": "registry unavailable"})
        if fault.mode == "malformed":
            return Answer(200, b'{"result": "found", "record": {"number": ')
        number = (query.get("number") or [""])[0]
        try:
            record = self.store.get(kind, number)
        except StoreError as exc:
            return _json(503, {"error": str(exc)})
        with self._lock:
            self.counters["found" if record else "not_found"] += 1
        if record is None:
            return _json(200, {"result": "not_found"})
        return _json(200, {"result": "found", "record": record})


# --- its own process ------------------------------------------------------------------
class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # 64+ clients connect at once; the default backlog is 5
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # a client that timed out and went away is part of the game, not an error
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def make_handler(sim: Simulator, prefix: str = ""):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: clients reuse their connection

        def _serve(self, method):
            parts = urlsplit(self.path)
            path = parts.path
            if prefix and path.startswith(prefix):
                path = path[len(prefix) :]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            answer = sim.handle(
                method, path, parse_qs(parts.query), self.headers.get("Authorization", ""), body
            )
            if answer is DROP:
                self.close_connection = True
                return
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def do_GET(self):  # noqa: N802
            self._serve("GET")

        def do_POST(self):  # noqa: N802
            self._serve("POST")

        def log_message(self, format, *args):  # requests carry ID numbers in answers; stay quiet
            pass

    return Handler


def serve(host, port, sim: Simulator, prefix="") -> _Server:
    return _Server((host, port), make_handler(sim, prefix))


def main(argv=None):
    parser = argparse.ArgumentParser(description="学信网 registry simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8401)
    parser.add_argument("--data", required=True, help="JSON or CSV records file")
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--fault", choices=FAULT_MODES, default="ok")
    parser.add_argument("--fault-count", type=int, default=None)
    parser.add_argument("--user", default=os.environ.get("REGISTRY_USER", ""))
    parser.add_argument("--password", default=os.environ.get("REGISTRY_PASSWORD", ""))
    parser.add_argument("--token", default=os.environ.get("REGISTRY_TOKEN", ""))
    parser.add_argument("--prefix", default="", help="URL prefix to strip, e.g. /registry-sim")
    args = parser.parse_args(argv)
    sim = Simulator(Store(args.data), user=args.user, password=args.password, token=args.token)
    sim.configure(mode=args.fault, latency_ms=args.latency_ms, count=args.fault_count)
    server = serve(args.host, args.port, sim, prefix=args.prefix)
    host, port = server.server_address[:2]
    print(f"registry simulator listening on http://{host}:{port}{args.prefix}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
