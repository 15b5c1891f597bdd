"""SMTP intake through the real protocol: smtplib against the gateway subprocess, the real broker behind it."""

from __future__ import annotations

import json
import re
import smtplib
import time
import uuid
from email.message import EmailMessage

import pytest
from support.prometheus import labels, samples, scrape

from contactrouting.kafka_io import ConsumedRecord
from contactrouting.topics import CONTACTS_DEADLETTER, ensure_topics
from contactrouting.v1 import contact_pb2
from devstack.broker import EmbeddedBroker
from devstack.ports import free_port
from devstack.tcp_proxy import TcpProxy
from services.email_gateway.domain.addresses import customer_id_for

from .conftest import RunningGateway, contacts_with_subject, messages_of, read_topic, start_gateway

pytestmark = pytest.mark.integration


def send(gateway: RunningGateway, mail: EmailMessage | bytes, to: str = "support@example.com") -> dict:
    with smtplib.SMTP("127.0.0.1", gateway.smtp_port, timeout=30) as smtp:
        if isinstance(mail, bytes):
            return smtp.sendmail("sender@example.net", [to], mail)
        return smtp.send_message(mail)


def test_plain_mail_becomes_exactly_one_contact_event(gateway: RunningGateway) -> None:
    token = uuid.uuid4().hex[:8]
    mail = EmailMessage()
    mail["From"] = "Ivana Kupac <Ivana.Kupac@Example.NET>"
    mail["To"] = "support@example.com"
    mail["Subject"] = f"Problem s računom {token}"
    mail["Message-ID"] = f"<{token}@example.net>"
    mail.set_content("Dobar dan, imam problem s računom za ovaj mjesec. Molim vas pomoć.\n")
    before = time.time()
    send(gateway, mail)

    [record] = contacts_with_subject(gateway, f"Problem s računom {token}")
    event = record.message
    assert isinstance(event, contact_pb2.ContactEvent)
    assert record.key == event.conversation_id
    assert uuid.UUID(event.event_id) and uuid.UUID(event.contact_id) and uuid.UUID(event.conversation_id)
    assert event.channel == contact_pb2.CHANNEL_EMAIL
    assert before - 1 <= event.received_at.ToNanoseconds() / 1e9 <= time.time() + 1
    assert event.customer == contact_pb2.Customer(
        customer_id=customer_id_for("ivana.kupac@example.net"),
        handle="ivana.kupac@example.net",
        display_name="Ivana Kupac",
    )
    assert event.body_text == "Dobar dan, imam problem s računom za ovaj mjesec. Molim vas pomoć."
    assert event.quoted_text == ""
    assert event.language == "hr"
    assert 0.5 < event.language_confidence <= 1.0
    assert list(event.attachments) == []
    assert event.queue == "general"
    assert list(event.required_skills) == []
    assert event.priority == 0
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{6}", event.source.thread_id)  # the reference tag of a new conversation
    assert event.source == contact_pb2.SourceRef(
        mailbox="support@example.com", platform_message_id=f"<{token}@example.net>", thread_id=event.source.thread_id
    )
    assert event.language_hint == "" and not event.is_edit


def test_receive_span_is_the_parent_of_the_publish(gateway: RunningGateway) -> None:
    token = uuid.uuid4().hex[:8]
    mail = EmailMessage()
    mail["From"] = "customer@example.net"
    mail["To"] = "vip@example.com"
    mail["Subject"] = f"Urgent: order {token}"
    mail.set_content("My order never arrived and I need it today.")
    send(gateway, mail, to="vip@example.com")

    [record] = contacts_with_subject(gateway, f"Urgent: order {token}")
    assert isinstance(record.message, contact_pb2.ContactEvent)
    assert record.message.queue == "vip" and record.message.priority == 10  # vip is high; "urgent" raises it
    trace_id = format(_trace_id_of(record), "032x")
    spans = _spans(gateway, trace_id)
    receive = next(s for s in spans if s["name"] == "email receive")
    publish = next(s for s in spans if s["name"] == "contacts.inbound publish")
    assert receive["kind"] == "SERVER" and publish["kind"] == "PRODUCER"
    assert publish["parent_span_id"] == receive["span_id"]


def _trace_id_of(record: ConsumedRecord) -> int:
    from opentelemetry import trace

    return trace.get_current_span(record.context).get_span_context().trace_id


def _spans(gateway: RunningGateway, trace_id: str, timeout_s: float = 10.0) -> list[dict]:
    path = gateway.var_dir / "traces" / "email_gateway.jsonl"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists():
            spans = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            found = [s for s in spans if s["trace_id"] == trace_id]
            if len(found) >= 2:
                return found
        time.sleep(0.2)
    raise AssertionError(f"no spans of trace {trace_id} in {path}")


def test_unknown_mailbox_is_refused_with_550_and_never_relayed(gateway: RunningGateway) -> None:
    with (
        smtplib.SMTP("127.0.0.1", gateway.smtp_port, timeout=30) as smtp,
        pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
    ):
        smtp.sendmail("someone@example.net", ["victim@elsewhere.example"], b"Subject: relay?\r\n\r\nhello")
    assert next(iter(refused.value.recipients.values()))[0] == 550


def test_oversize_mail_is_refused_with_552(gateway: RunningGateway) -> None:
    body = b"Subject: big\r\nFrom: a@example.net\r\n\r\n" + (b"y" * 998 + b"\r\n") * 100  # 100 kB > 64 KiB
    with smtplib.SMTP("127.0.0.1", gateway.smtp_port, timeout=30) as smtp:
        # A client that declares SIZE is refused at MAIL FROM ...
        with pytest.raises(smtplib.SMTPSenderRefused) as refused_early:
            smtp.sendmail("a@example.net", ["support@example.com"], body)
        assert refused_early.value.smtp_code == 552
        # ... and one that does not is refused after DATA.
        smtp.rset()
        smtp.esmtp_features.pop("size", None)
        with pytest.raises(smtplib.SMTPDataError) as refused:
            smtp.sendmail("a@example.net", ["support@example.com"], body)
    assert refused.value.smtp_code == 552


def test_unparseable_mail_is_dead_lettered_with_a_5xx(gateway: RunningGateway) -> None:
    marker = uuid.uuid4().hex
    raw = (
        "From: customer@example.net\r\nTo: support@example.com\r\nSubject: broken\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="never-{marker}"\r\n\r\nthere is no boundary here\r\n'
    ).encode()
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(gateway, raw)
    assert refused.value.smtp_code == 554
    assert b"malformed MIME structure" in refused.value.smtp_error

    def found(records: list[ConsumedRecord]) -> bool:
        return any(letter.raw == raw for letter in messages_of(records, contact_pb2.DeadLetter))

    records = read_topic(gateway.kafka_bootstrap, CONTACTS_DEADLETTER, contact_pb2.DeadLetter, found)
    [letter] = [letter for letter in messages_of(records, contact_pb2.DeadLetter) if letter.raw == raw]
    assert letter.source == "email_gateway.smtp"
    assert letter.reason == "malformed MIME structure: the multipart boundary never occurs in the body"
    assert letter.details["mailbox"] == "support@example.com"
    assert letter.received_at.seconds > 0


def test_health_endpoints_answer(gateway: RunningGateway) -> None:
    import urllib.request

    for path in ("/healthz", "/readyz"):
        with urllib.request.urlopen(f"http://127.0.0.1:{gateway.health_port}{path}", timeout=5) as response:
            assert response.status == 200


def test_mail_is_deferred_with_451_while_kafka_is_down_and_accepted_after(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    var_dir = tmp_path_factory.mktemp("kafka_down")
    proxy_port = free_port()
    broker = EmbeddedBroker(port=free_port(), log_path=var_dir / "tansu.log", advertised_port=proxy_port)
    broker.start()
    proxy = TcpProxy(proxy_port, broker.port)
    proxy.start()
    ensure_topics(broker.bootstrap_servers, partitions=1, replication_factor=1)
    metrics_port = free_port()
    gateway = start_gateway(
        var_dir, broker.bootstrap_servers, EMAIL_PUBLISH_TIMEOUT_S="2", METRICS_PORT=str(metrics_port)
    )
    try:
        proxy.cut()
        mail = EmailMessage()
        mail["From"] = "customer@example.net"
        mail["To"] = "support@example.com"
        mail["Subject"] = "Kafka is down"
        mail.set_content("Please keep this message until you can store it.")
        with pytest.raises(smtplib.SMTPDataError) as deferred:
            send(gateway, mail)
        assert deferred.value.smtp_code == 451
        deferrals = 1

        proxy.restore()
        deadline = time.monotonic() + 30
        while True:  # the sending server's retry
            try:
                send(gateway, mail)
                break
            except smtplib.SMTPDataError as error:
                assert error.smtp_code == 451 and time.monotonic() < deadline
                deferrals += 1
                time.sleep(0.5)
        text = scrape(metrics_port)
        assert samples(text, "smtp_rejects_total") == {labels(reason="deferred"): deferrals}
        assert samples(text, "contacts_received_total") == {labels(channel="email", language="en"): 1.0}
        [record] = contacts_with_subject(gateway, "Kafka is down")  # exactly one: the deferred try was dropped
        assert isinstance(record.message, contact_pb2.ContactEvent)
        assert record.message.body_text == mail.get_content().strip()
    finally:
        assert gateway.stop() == 0, gateway.process.log_tail()
        proxy.stop()
        broker.stop()


def test_logs_never_carry_bodies_or_customer_addresses(gateway: RunningGateway) -> None:
    token = uuid.uuid4().hex[:8]
    mail = EmailMessage()
    mail["From"] = f"Tajna Osoba <tajna.{token}@example.net>"
    mail["To"] = "support@example.com"
    mail["Subject"] = f"Log check {token}"
    mail.set_content(f"Moj OIB je {token}99 i lozinka je tajna-{token}.")
    send(gateway, mail)
    [record] = contacts_with_subject(gateway, f"Log check {token}")
    assert isinstance(record.message, contact_pb2.ContactEvent)
    contact_id = record.message.contact_id

    deadline = time.monotonic() + 10
    while contact_id not in gateway.process.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = gateway.process.log_path.read_text()
    assert contact_id in log  # the mail was logged, by id
    assert f"tajna.{token}" not in log and f"{token}99" not in log and f"tajna-{token}" not in log


def test_without_a_certificate_starttls_is_not_offered(gateway: RunningGateway) -> None:
    with smtplib.SMTP("127.0.0.1", gateway.smtp_port, timeout=30) as smtp:
        smtp.ehlo()
        assert not smtp.has_extn("starttls")
