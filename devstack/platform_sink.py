"""A local stand-in for the social platforms' send APIs (Telegram, Meta Graph, X): every request it receives is
appended to a JSON-lines file and answered with success, so `make run` shows replies and surveys going out."""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from contactrouting.lifecycle import install_stop_signal

RECORD_FILE = "platforms.jsonl"


def serve(host: str, port: int, outbox: Path) -> ThreadingHTTPServer:
    """Starts the sink on its own thread; requests land in `outbox/platforms.jsonl`, one JSON object per line."""
    outbox.mkdir(parents=True, exist_ok=True)
    record_path = outbox / RECORD_FILE
    lock = threading.Lock()
    sent = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                body: Any = json.loads(raw or b"null")
            except ValueError:
                body = raw.decode(errors="replace")
            with lock:
                sent[0] += 1
                number = sent[0]
                with record_path.open("a", encoding="utf-8") as records:
                    records.write(json.dumps({"at": time.time(), "path": self.path, "body": body}) + "\n")
            # One answer that satisfies each platform's success shape (Telegram, Graph, X).
            answer = {"ok": True, "result": {"message_id": number}, "message_id": f"m_{number}"}
            answer["data"] = {"dm_event_id": str(number)}
            payload = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the JSON-lines file is the record

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="platform-sink", daemon=True).start()
    return server


def read_records(outbox: Path) -> list[dict[str, Any]]:
    path = outbox / RECORD_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2527)
    parser.add_argument("--outbox", type=Path, default=Path("var/outbox"))
    options = parser.parse_args()
    stop = install_stop_signal()
    server = serve(options.host, options.port, options.outbox)
    print(f"platform sink listening on {options.host}:{options.port}, recording in {options.outbox}", flush=True)
    stop.wait()
    server.shutdown()


if __name__ == "__main__":
    main()
