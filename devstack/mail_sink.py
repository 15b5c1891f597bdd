"""A local SMTP relay that stores every message it receives as a .eml file: the outbound mail server of `make run`."""

from __future__ import annotations

import argparse
import time
import uuid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from contactrouting.lifecycle import install_stop_signal


class MaildirHandler:
    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir
        maildir.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        (self.maildir / name).write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2526)
    parser.add_argument("--maildir", type=Path, default=Path("var/outbox"))
    options = parser.parse_args()
    stop = install_stop_signal()
    controller = Controller(MaildirHandler(options.maildir), hostname=options.host, port=options.port)
    controller.start()
    print(f"mail sink listening on {options.host}:{options.port}, storing in {options.maildir}", flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
