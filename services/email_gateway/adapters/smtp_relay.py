"""Sending through the configured SMTP relay, telling a retryable failure from a permanent one."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage


class DeliveryError(Exception):
    def __init__(self, reason: str, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class SmtpRelay:
    def __init__(self, host: str, port: int, timeout_s: float = 30.0) -> None:
        self._host = host
        self._port = port
        self._timeout_s = timeout_s

    def send(self, message: EmailMessage, envelope_from: str, recipient: str) -> None:
        """Raises DeliveryError: permanent for 5xx answers, retryable for 4xx and for connection trouble."""
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout_s) as smtp:
                smtp.send_message(message, from_addr=envelope_from, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            raise DeliveryError(_reason(code, text), permanent=code >= 500) from error
        except smtplib.SMTPResponseException as error:
            raise DeliveryError(_reason(error.smtp_code, error.smtp_error), permanent=error.smtp_code >= 500) from error
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"relay unreachable: {type(error).__name__}", permanent=False) from error


def _reason(code: int, text: bytes | str) -> str:
    detail = text.decode(errors="replace") if isinstance(text, bytes) else text
    return f"SMTP {code} {detail}".strip()
