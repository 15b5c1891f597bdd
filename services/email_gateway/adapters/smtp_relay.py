"""Sending through the configured SMTP relay, telling a retryable failure from a permanent one.

Submission relays (port 587) want STARTTLS and a login; port 465 wants TLS from the first byte. Credentials are
never sent before the connection is encrypted: the settings refuse a login without TLS.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum

from services.email_gateway.domain.addresses import mask_address

_ADDRESS = re.compile(r"[^\s<>@\"']+@[^\s<>@\"']+")


class RelayTls(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"  # plain connect, then upgrade (submission, port 587)
    TLS = "tls"  # implicit TLS (port 465)


@dataclass(frozen=True)
class RelaySecurity:
    tls: RelayTls = RelayTls.NONE
    username: str = ""
    password: str = ""
    # None: the system's trusted CAs.
    context: ssl.SSLContext | None = None


class DeliveryError(Exception):
    def __init__(self, reason: str, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class SmtpRelay:
    def __init__(self, host: str, port: int, security: RelaySecurity | None = None, timeout_s: float = 30.0) -> None:
        self._host = host
        self._port = port
        self._security = security or RelaySecurity()
        self._timeout_s = timeout_s

    def send(self, message: EmailMessage, envelope_from: str, recipient: str) -> None:
        """Raises DeliveryError: permanent for 5xx answers (a refused login included), retryable for 4xx and for
        connection or TLS trouble."""
        try:
            with self._connect() as smtp:
                smtp.send_message(message, from_addr=envelope_from, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            raise DeliveryError(_reason(code, text), permanent=code >= 500) from error
        except smtplib.SMTPResponseException as error:
            raise DeliveryError(_reason(error.smtp_code, error.smtp_error), permanent=error.smtp_code >= 500) from error
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"relay unreachable: {type(error).__name__}", permanent=False) from error

    def _connect(self) -> smtplib.SMTP:
        security = self._security
        context = security.context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if security.tls is RelayTls.TLS:
            smtp = smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout_s)
        try:
            if security.tls is RelayTls.STARTTLS:
                smtp.starttls(context=context)  # SMTPNotSupportedError when not offered: never fall back to clear
            if security.username:
                smtp.login(security.username, security.password)
        except BaseException:
            smtp.close()
            raise
        return smtp


def _reason(code: int, text: bytes | str) -> str:
    """The relay's answer, for logs and routing events; relays often echo the recipient, so addresses are masked."""
    detail = text.decode(errors="replace") if isinstance(text, bytes) else text
    detail = _ADDRESS.sub(lambda match: mask_address(match.group()), detail)
    return f"SMTP {code} {detail}".strip()
