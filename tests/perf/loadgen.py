"""A lean HTTP/1.1 load generator for the opening-rush benchmark (bench_intake).

Why not httpx: on this 2-core machine the load generator shares the CPU with gunicorn and
PostgreSQL. httpx's AsyncClient spends milliseconds of Python per request (connection-pool
bookkeeping, multipart encoding of the 150 KB photo), so it saturated at ~67 health req/s
while `wrk` drove the same server at ~750: the figures measured the client, not the server.
This client keeps one asyncio connection per virtual client (keep-alive), writes requests
that are assembled from pre-encoded bytes (the photo part is shared, never copied), and parses
only the status line, the headers it needs and the body.
"""

import asyncio
import json
import uuid
from dataclasses import dataclass


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body or b"{}")


class Connection:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def _open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
            self.writer = None

    async def request(self, head: bytes, body_parts=()) -> Reply:
        """Send one request (reconnecting first if the server closed the connection)."""
        if self.writer is None or self.writer.is_closing():
            await self._open()
        self.writer.write(head)
        for part in body_parts:
            self.writer.write(part)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            await self.close()
            raise ConnectionError("server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        headers = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readline()
            body = b"".join(chunks)
        else:
            body = await self.reader.read()
            await self.close()
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Reply(status, headers, body)


def get_head(path: str, host: str, headers: dict) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Multipart:
    """A multipart/form-data body: the fields vary per request, the file part is shared."""

    def __init__(self, file_field: str, filename: str, content_type: str, content: bytes):
        self.boundary = uuid.uuid4().hex
        self.file_head = (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        self.content = content
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()

    def parts(self, fields: dict) -> list[bytes]:
        text = "".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in fields.items()
        ).encode()
        return [text, self.file_head, self.content, self.tail]

    def post_head(self, path: str, host: str, headers: dict, parts: list[bytes]) -> bytes:
        length = sum(len(p) for p in parts)
        lines = [
            f"POST {path} HTTP/1.1",
            f"Host: {host}",
            f"Content-Type: multipart/form-data; boundary={self.boundary}",
            f"Content-Length: {length}",
        ]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()
