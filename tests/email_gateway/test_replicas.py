"""Two email gateway processes sharing one PostgreSQL thread store (EMAIL_GATEWAY_DATABASE_URL), as two Kubernetes
replicas: a customer's reply reaching the other replica stays in its conversation, and a mail delivered again to the
other replica is a duplicate there."""

from __future__ import annotations

import smtplib
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from support.postgres import TempPostgres

from contactrouting.kafka_io import ConsumedRecord
from contactrouting.topics import CONTACTS_INBOUND, ensure_topics
from contactrouting.v1 import contact_pb2

from .conftest import RunningGateway, contacts_with_subject, messages_of, read_topic, start_gateway

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def replicas(
    kafka_bootstrap: str, postgres_server: TempPostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningGateway, RunningGateway]]:
    ensure_topics(kafka_bootstrap, partitions=3, replication_factor=1)
    database_url = postgres_server.create_database()
    started: list[RunningGateway] = []
    try:
        for name in ("replica-a", "replica-b"):
            var_dir = tmp_path_factory.mktemp(name)
            started.append(start_gateway(var_dir, kafka_bootstrap, EMAIL_GATEWAY_DATABASE_URL=database_url))
        yield started[0], started[1]
    finally:
        for gateway in started:
            gateway.stop()


def send(gateway: RunningGateway, mail: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", gateway.smtp_port, timeout=30) as smtp:
        smtp.send_message(mail)


def mail(subject: str, message_id: str, in_reply_to: str = "") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Ana Kovač <ana@example.net>"
    message["To"] = "support@example.com"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message.set_content("Dobar dan, paket još nije stigao. Možete li provjeriti?")
    return message


def test_a_reply_reaching_the_other_replica_stays_in_its_conversation(
    replicas: tuple[RunningGateway, RunningGateway],
) -> None:
    first, second = replicas
    subject = f"Paket {uuid.uuid4().hex[:8]}"
    question = f"<{uuid.uuid4()}@example.net>"
    send(first, mail(subject, question))
    (opened,) = messages_of(contacts_with_subject(first, subject), contact_pb2.ContactEvent)
    send(second, mail(f"Re: {subject}", f"<{uuid.uuid4()}@example.net>", in_reply_to=question))
    (followed,) = messages_of(contacts_with_subject(second, f"Re: {subject}"), contact_pb2.ContactEvent)
    assert followed.conversation_id == opened.conversation_id
    assert followed.contact_id != opened.contact_id


def test_a_mail_delivered_again_to_the_other_replica_is_a_duplicate(
    replicas: tuple[RunningGateway, RunningGateway],
) -> None:
    first, second = replicas
    subject = f"Račun {uuid.uuid4().hex[:8]}"
    original = mail(subject, f"<{uuid.uuid4()}@example.net>")
    send(first, original)
    assert len(contacts_with_subject(first, subject)) == 1
    send(second, original)  # accepted (250): the sender must not retry, but nothing is published again
    deadline = time.monotonic() + 10
    while "mail_duplicate_ignored" not in second.process.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "mail_duplicate_ignored" in second.process.log_path.read_text()

    def published(records: list[ConsumedRecord]) -> int:
        return sum(event.subject == subject for event in messages_of(records, contact_pb2.ContactEvent))

    records = read_topic(
        first.kafka_bootstrap, CONTACTS_INBOUND, contact_pb2.ContactEvent, lambda found: published(found) >= 2, 3
    )
    assert published(records) == 1
    # Shared for real: neither replica keeps its own SQLite thread store.
    for gateway in replicas:
        assert list((gateway.var_dir / "data").rglob("*.db")) == []


def test_a_database_outage_defers_mail_with_451_and_the_retry_is_accepted(
    replicas: tuple[RunningGateway, RunningGateway], postgres_server: TempPostgres
) -> None:
    first, second = replicas
    subject = f"Dostava {uuid.uuid4().hex[:8]}"
    delivery = mail(subject, f"<{uuid.uuid4()}@example.net>")
    postgres_server.pause()
    try:
        with pytest.raises(smtplib.SMTPDataError) as deferred:
            send(first, delivery)
        assert deferred.value.smtp_code == 451
    finally:
        postgres_server.resume()
    send(second, delivery)  # the sending server's retry, to whichever replica
    assert len(contacts_with_subject(second, subject)) == 1
    assert '"smtp_store_failed"' in first.process.log_path.read_text()
