"""Reading delivery status notifications: which of our mails failed for good, and why."""

from __future__ import annotations

from services.email_gateway.domain.bounces import DeliveryFailure
from services.email_gateway.domain.parsing import parse_mail

from .corpus_files import corpus_mail


def dsn(action: str, status: str, original_part: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.org\r\nTo: support@example.com\r\nSubject: Undelivered Mail\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n"
        f"Final-Recipient: rfc822; gone@example.org\r\nAction: {action}\r\nStatus: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <gone@example.org>:\r\n Recipient address rejected\r\n\r\n"
        f"--b\r\n{original_part}\r\n--b--\r\n"
    ).encode()


ORIGINAL_HEADERS = (
    "Content-Type: text/rfc822-headers\r\n\r\nFrom: support@example.com\r\nMessage-ID: <r-1@example.com>\r\n"
)


def test_the_corpus_bounce_names_the_failed_message() -> None:
    failure = parse_mail(corpus_mail("bounce.eml")).delivery_failure
    assert failure == DeliveryFailure("<out-1@example.com>", "5.1.1", "")


def test_headers_only_reports_and_diagnostics_are_read() -> None:
    failure = parse_mail(dsn("failed", "5.1.1", ORIGINAL_HEADERS)).delivery_failure
    assert failure == DeliveryFailure(
        "<r-1@example.com>", "5.1.1", "smtp; 550 5.1.1 <gone@example.org>: Recipient address rejected"
    )


def test_delays_and_ordinary_mail_are_not_failures() -> None:
    assert parse_mail(dsn("delayed", "4.4.7", ORIGINAL_HEADERS)).delivery_failure is None
    assert parse_mail(corpus_mail("multipart_alternative.eml")).delivery_failure is None
    assert parse_mail(corpus_mail("auto_reply.eml")).delivery_failure is None
