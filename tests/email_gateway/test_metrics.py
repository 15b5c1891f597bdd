"""The gateway's Prometheus endpoint after real SMTP traffic: contacts, dead letters and refusals, counted exactly."""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage
from pathlib import Path

import pytest
from support.pii import assert_no_pii
from support.prometheus import labels, samples, scrape

from contactrouting.topics import ensure_topics
from devstack.ports import free_port

from .conftest import start_gateway

pytestmark = pytest.mark.integration

CROATIAN = "Dobar dan, imam problem s računom za ovaj mjesec. Molim vas pomoć."
ENGLISH = "Hello, my order has not arrived yet and I would like to know where it is."


def mail(subject: str, body: str, message_id: str, to: str = "support@example.com") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Ivana Kupac <ivana.kupac@example.net>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message.set_content(body)
    return message


def test_scrape_counts_contacts_dead_letters_and_smtp_rejects(kafka_bootstrap: str, tmp_path: Path) -> None:
    ensure_topics(kafka_bootstrap, partitions=3, replication_factor=1)
    metrics_port = free_port()
    gateway = start_gateway(tmp_path, kafka_bootstrap, METRICS_PORT=str(metrics_port))
    token = uuid.uuid4().hex[:8]
    unparseable = (
        "From: ivana.kupac@example.net\r\nTo: support@example.com\r\nSubject: broken\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="never-{token}"\r\n\r\nthere is no boundary here\r\n'
    ).encode()
    try:
        with smtplib.SMTP("127.0.0.1", gateway.smtp_port, timeout=30) as smtp:
            for n in range(2):
                smtp.send_message(mail(f"Račun {token} {n}", CROATIAN, f"<hr-{n}-{token}@example.net>"))
            english = mail(f"Order {token}", ENGLISH, f"<en-{token}@example.net>", to="billing@example.com")
            smtp.send_message(english)
            smtp.send_message(english)  # the sender's retry: a duplicate, answered 250 but not a new contact
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                smtp.sendmail("ivana.kupac@example.net", ["nobody@example.com"], b"Subject: x\r\n\r\nx\r\n")
            with pytest.raises(smtplib.SMTPDataError) as refused:
                smtp.sendmail("ivana.kupac@example.net", ["support@example.com"], unparseable)
            assert refused.value.smtp_code == 554

        # Each counter moves before the SMTP reply is sent, so the scrape needs no waiting.
        text = scrape(metrics_port)
    finally:
        assert gateway.stop() == 0, gateway.process.log_tail()

    assert samples(text, "contacts_received_total") == {
        labels(channel="email", language="hr"): 2.0,
        labels(channel="email", language="en"): 1.0,
    }
    assert samples(text, "contacts_dead_letters_total") == {
        labels(source="email_gateway.smtp", reason="unparseable"): 1.0
    }
    assert samples(text, "smtp_rejects_total") == {
        labels(reason="unknown_recipient"): 1.0,
        labels(reason="unparseable"): 1.0,
    }
    (target,) = samples(text, "target_info")
    assert ("service_name", "email_gateway") in target
    assert_no_pii([text], ["ivana.kupac@example.net", "Ivana Kupac", "nobody@example.com", token])
