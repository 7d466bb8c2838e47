"""A local fake of the Graph API (stdlib http.server in a thread) that records requests."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeGraph:
    server: ThreadingHTTPServer
    requests: list[Recorded] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    fail_next: int = 0        # answer this many requests with 503 first
    sent: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/v21.0"

    def posts(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]


def start() -> FakeGraph:
    fake: FakeGraph

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            fake.requests.append(Recorded(method, self.path, dict(self.headers), body))
            if fake.fail_next > 0:
                fake.fail_next -= 1
                self._answer(503, b'{"error": {"message": "down", "code": 2}}')
                return
            if self.headers.get("Authorization") != "Bearer test-access-token":
                self._answer(401, b'{"error": {"message": "bad token", "code": 190}}')
                return
            path = self.path.removeprefix("/v21.0/")
            if method == "POST" and path.endswith("/messages"):
                fake.sent += 1
                self._answer(200, json.dumps({"messaging_product": "whatsapp",
                                              "messages": [{"id": f"wamid.OUT{fake.sent}"}]})
                             .encode())
            elif method == "GET" and path.startswith("bytes/") and path[6:] in fake.media:
                content, mime = fake.media[path[6:]]
                self._answer(200, content, mime)
            elif method == "GET" and path in fake.media:
                self._answer(200, json.dumps({"url": f"{fake.base}/bytes/{path}",
                                              "mime_type": fake.media[path][1],
                                              "id": path}).encode())
            else:
                self._answer(404, b'{"error": {"message": "unknown", "code": 100}}')

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake = FakeGraph(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake
