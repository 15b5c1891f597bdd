"""Inbound SMTP with aiosmtpd: only configured mailboxes (never an open relay), a size limit, and a reply code
that tells the sending server the truth about Kafka."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from email._header_value_parser import get_addr_spec, get_angle_addr
from email.errors import HeaderParseError
from pathlib import Path
from typing import Any

import structlog
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.exc import SQLAlchemyError

from contactrouting.metrics import SMTP_REJECTS
from services.email_gateway.domain.addresses import normalize_address
from services.email_gateway.domain.mailboxes import MailboxDirectory
from services.email_gateway.intake import IntakeResult, MailIntake, Outcome

log = structlog.get_logger()

_REPLIES: dict[Outcome, Callable[[IntakeResult], str]] = {
    Outcome.ACCEPTED: lambda r: f"250 2.0.0 OK: queued as {r.contact_id}",
    Outcome.DUPLICATE: lambda r: "250 2.0.0 OK: already received",
    Outcome.REJECTED: lambda r: f"554 5.6.0 Message could not be parsed: {r.detail}",
    Outcome.DEFERRED: lambda r: "451 4.3.0 Temporarily unable to accept the message, please retry later",
}


class InboundHandler:
    """aiosmtpd hooks. Parsing and the blocking Kafka ack run in worker threads, off the event loop."""

    def __init__(self, directory: MailboxDirectory, intake: MailIntake, workers: ThreadPoolExecutor) -> None:
        self._directory = directory
        self._intake = intake
        self._workers = workers

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        normalized = normalize_address(address)
        if normalized not in self._directory:
            SMTP_REJECTS.add(1, {"reason": "unknown_recipient"})
            return "550 5.1.1 No such mailbox here; relaying denied"
        envelope.rcpt_tos.append(normalized)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if not isinstance(raw, bytes):
            raw = raw.encode("utf-8", errors="surrogateescape")
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(
                self._workers, self._intake.receive, raw, list(envelope.rcpt_tos), envelope.mail_from
            )
        except SQLAlchemyError as error:
            # The thread store did not answer; the sending server retries. Only the type: the text names the database.
            log.error("smtp_store_failed", error=type(error).__name__)
            SMTP_REJECTS.add(1, {"reason": "store_unavailable"})
            return "451 4.3.0 Temporarily unable to accept the message, please retry later"
        except Exception:
            log.exception("smtp_data_failed")
            SMTP_REJECTS.add(1, {"reason": "internal_error"})
            return "451 4.3.0 Internal error, please retry later"
        if result.outcome is Outcome.REJECTED:
            SMTP_REJECTS.add(1, {"reason": result.code})  # why the mail was dead-lettered, e.g. "unparseable"
        elif result.outcome is Outcome.DEFERRED:
            SMTP_REJECTS.add(1, {"reason": "deferred"})
        return _REPLIES[result.outcome](result)


class ThriftySmtp(SMTP):
    """aiosmtpd's SMTP protocol, parsing MAIL FROM and RCPT TO addresses without defining a class each time.

    aiosmtpd 1.4's `_getaddr` declares a `typing.Protocol` class on every call, which costs three times the parse
    itself (about 0.25 ms of CPU per mail). Same parse, same answers: tests hold it to aiosmtpd's own.
    """

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        if not arg:
            return "", ""
        try:
            parse = get_angle_addr if arg.lstrip().startswith("<") else get_addr_spec
            address, rest = parse(arg)
        except HeaderParseError:
            return None, None
        addr: str = address.addr_spec
        local_part = addr.rpartition("@")[0]
        if self.local_part_limit and len(local_part) > self.local_part_limit:
            return None, None
        return addr, rest


class _Controller(Controller):
    def factory(self) -> SMTP:
        return ThriftySmtp(self.handler, **self.SMTP_kwargs)


class InboundSmtpServer:
    def __init__(
        self,
        handler: InboundHandler,
        host: str,
        port: int,
        max_message_bytes: int,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._controller = _Controller(
            handler,
            hostname=host,
            port=port,
            server_hostname="email-gateway",
            data_size_limit=max_message_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            # STARTTLS is offered when a certificate is configured; senders may still deliver in the clear.
            tls_context=tls_context,
            require_starttls=False,
        )

    @property
    def address(self) -> tuple[str, int]:
        server: Any = self._controller.server
        host, port = server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


def starttls_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context
