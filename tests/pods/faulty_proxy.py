"""A real HTTP proxy in front of the sandbox's Kubernetes API that refuses chosen paths with a 503 Status,
so one read fails over the wire while every other read goes through untouched."""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


class FaultyProxy:
    def __init__(self, upstream: str, refuse: str) -> None:
        self._upstream = upstream.rstrip("/")
        self._refuse = re.compile(refuse)
        self.refused: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if proxy._refuse.search(self.path.split("?", 1)[0]):
                    proxy.refused.append(self.path)
                    body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 503,
                                       "reason": "ServiceUnavailable", "message": "injected by the test"})
                    self._reply(503, body.encode(), "application/json")
                    return
                request = urllib.request.Request(proxy._upstream + self.path, headers={"Accept": "*/*"})
                try:
                    with urllib.request.urlopen(request, timeout=10) as answer:
                        self._reply(answer.status, answer.read(), answer.headers.get("Content-Type", ""))
                except urllib.error.HTTPError as refused:
                    self._reply(refused.code, refused.read(), refused.headers.get("Content-Type", ""))

            def _reply(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type or "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # quiet: the test output is enough
                pass

        return Handler
