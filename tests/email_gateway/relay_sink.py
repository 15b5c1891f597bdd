"""A real SMTP relay (aiosmtpd) standing in for the outbound relay: keeps what it is given, refuses as scripted."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any


@dataclass
class RelayedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Relay:
    """An aiosmtpd relay: refuses `gone@` for good, `flaky@` twice with 451, and keeps everything else."""

    received: list[RelayedMail] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        with self.lock:
            self.attempts[address] = self.attempts.get(address, 0) + 1
            attempt = self.attempts[address]
        if address.startswith("gone@"):
            return "550 5.1.1 <gone@example.net>: Recipient address rejected: User unknown"
        if address.startswith("flaky@") and attempt <= 2:
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.received.append(RelayedMail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def wait_for(self, recipient: str, timeout_s: float = 30.0) -> RelayedMail:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                found = [mail for mail in self.received if recipient in mail.rcpt_tos]
            if found:
                return found[-1]
            time.sleep(0.1)
        raise AssertionError(f"the relay received nothing for {recipient}")
