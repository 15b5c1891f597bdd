"""A real local HTTP server standing in for the platforms' send APIs: records requests, answers as scripted."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float


@dataclass(frozen=True)
class ScriptedAnswer:
    status: int
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()


class PlatformStub:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._script: dict[str, deque[ScriptedAnswer]] = defaultdict(deque)
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                with stub._lock:
                    stub.requests.append(
                        RecordedRequest(
                            "POST", self.path, dict(self.headers), json.loads(raw or b"null"), time.monotonic()
                        )
                    )
                    script = stub._script[self.path]
                    answer = script.popleft() if script else ScriptedAnswer(200, {"ok": True})
                payload = json.dumps(answer.body).encode()
                self.send_response(answer.status)
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True, name="platform-stub").start()

    def answer(self, path: str, *answers: ScriptedAnswer) -> None:
        with self._lock:
            self._script[path].extend(answers)

    def wait_for(
        self, path: str, count: int, match: Callable[[RecordedRequest], bool] = lambda _: True, timeout_s: float = 30.0
    ) -> list[RecordedRequest]:
        """The requests to `path` that `match` accepts, once there are `count` of them (or at the timeout)."""
        deadline = time.monotonic() + timeout_s
        matching: list[RecordedRequest] = []
        while time.monotonic() < deadline:
            with self._lock:
                matching = [request for request in self.requests if request.path == path and match(request)]
            if len(matching) >= count:
                return matching
            time.sleep(0.05)
        return matching

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
