"""The whole mail corpus through the real gateway: exact ContactEvents, threads, dedupe and acknowledgements."""

from __future__ import annotations

import hashlib
import re
import smtplib
import uuid
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr

import pytest

from contactrouting.kafka_io import ConsumedRecord
from contactrouting.topics import CONTACTS_INBOUND, CONTACTS_OUTBOUND
from contactrouting.v1 import contact_pb2

from .conftest import RunningGateway, messages_of, read_topic
from .corpus_files import INVOICE_PDF, SCREENSHOT_PNG, corpus_mail

pytestmark = pytest.mark.integration


def unique(raw: bytes) -> tuple[bytes, str]:
    """The corpus mail with a fresh Message-ID, so reruns against a long-lived broker stay independent."""
    message_id = f"<{uuid.uuid4().hex}@corpus.example>"
    return re.sub(rb"Message-ID: <[^>]+>", f"Message-ID: {message_id}".encode(), raw), message_id


def smtp_send(gateway: RunningGateway, raw: bytes, to: str, sender: str = "sender@example.net") -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", gateway.smtp_port, timeout=30) as smtp:
        smtp.ehlo()
        smtp.mail(sender)
        smtp.rcpt(to)
        return smtp.data(raw)


def inbound(gateway: RunningGateway, message_ids: list[str]) -> dict[str, contact_pb2.ContactEvent]:
    def found(records: list[ConsumedRecord]) -> dict[str, contact_pb2.ContactEvent]:
        events = messages_of(records, contact_pb2.ContactEvent)
        return {e.source.platform_message_id: e for e in events if e.source.platform_message_id in message_ids}

    records = read_topic(
        gateway.kafka_bootstrap,
        CONTACTS_INBOUND,
        contact_pb2.ContactEvent,
        lambda rs: len(found(rs)) == len(message_ids),
    )
    events = messages_of(records, contact_pb2.ContactEvent)
    assert sorted(
        e.source.platform_message_id for e in events if e.source.platform_message_id in message_ids
    ) == sorted(message_ids), "each message exactly once"
    return found(records)


def acknowledgements(
    gateway: RunningGateway, conversation_ids: set[str], wait_for: int
) -> list[contact_pb2.OutboundMessage]:
    def mine(records: list[ConsumedRecord]) -> list[contact_pb2.OutboundMessage]:
        return [m for m in messages_of(records, contact_pb2.OutboundMessage) if m.conversation_id in conversation_ids]

    records = read_topic(
        gateway.kafka_bootstrap,
        CONTACTS_OUTBOUND,
        contact_pb2.OutboundMessage,
        lambda rs: len(mine(rs)) >= wait_for,
        timeout_s=5 if wait_for == 0 else 20,
    )
    return mine(records)


CORPUS_EXPECTATIONS = [
    # file, mailbox, subject, body_text, language, queue, attachments (name, type, bytes)
    (
        "multipart_alternative.eml",
        "support@example.com",
        "Narudzba nije stigla",
        "Poštovani,\n\nnarudžba mi još nije stigla, a platio sam prije dva tjedna.\n\nLijep pozdrav,\nMarko",
        "hr",
        "general",
        [],
    ),
    (
        "html_only.eml",
        "support@example.com",
        "Nefunguje prihlasenie",
        "Dobrý deň,\n\nnefunguje mi prihlásenie do aplikácie \u2013 stále píše chybu.\n\nĎakujem Jana",
        "sk",
        "general",
        [],
    ),
    (
        "quoted_printable.eml",
        "support@example.com",
        "Kuendigung",
        "Guten Tag,\n\nich möchte mein Abo kündigen. Bitte bestätigen Sie die Kündigung schriftlich.",
        "de",
        "general",
        [],
    ),
    (
        "base64.eml",
        "billing@example.com",
        "Cobro duplicado",
        "Hola, me cobraron dos veces la misma compra. ¿Pueden devolverme el dinero?",
        "es",
        "billing",
        [],
    ),
    (
        "iso_8859_2.eml",
        "support@example.com",
        "Reklamacija",
        "Poštovani, proizvod je stigao oštećen. Želim reklamirati pošiljku i dobiti novac natrag. Hvala, Ivana Kovačić",
        "hr",
        "general",
        [],
    ),
    (
        "windows_1250.eml",
        "billing@example.com",
        "Nespravna faktura",
        "Dobrý deň, na faktúre je nesprávna suma. Prosím o opravu a zaslanie novej faktúry. Ďakujem, Peter Hudák",
        "sk",
        "billing",
        [],
    ),
    (
        "shift_jis.eml",
        "support@example.com",
        "お問い合わせ",
        "注文した商品がまだ届きません。確認をお願いします。",
        "ja",
        "general",
        [],
    ),
    (
        "encoded_word_subject.eml",
        "support@example.com",
        "Problem s računom za studeni čekam odgovor",
        "Dobar dan, račun za studeni nije točan. Molim provjeru.",
        "hr",
        "general",
        [],
    ),
    (
        "attachments.eml",
        "billing@example.com",
        "Faktura v priloze",
        "Dobrý den, v příloze posílám fakturu se špatnou částkou. Prosím o opravu.",
        "cs",
        "billing",
        [
            ("faktura.pdf", "application/pdf", INVOICE_PDF),
            ("snímek obrazovky.png", "image/png", SCREENSHOT_PNG),
        ],
    ),
    ("no_body.eml", "support@example.com", "Call me back please", "", "en", "general", []),
]


def test_the_corpus_becomes_exact_contact_events_and_each_new_conversation_is_acknowledged(
    gateway: RunningGateway,
) -> None:
    sent: dict[str, tuple] = {}
    for expectation in CORPUS_EXPECTATIONS:
        raw, message_id = unique(corpus_mail(expectation[0]))
        code, _ = smtp_send(gateway, raw, expectation[1])
        assert code == 250, expectation[0]
        sent[message_id] = expectation
    events = inbound(gateway, list(sent))
    for message_id, (name, mailbox, subject, body, language, queue, attachments) in sent.items():
        event = events[message_id]
        assert (event.subject, event.body_text, event.language, event.queue) == (subject, body, language, queue), name
        assert event.source.mailbox == mailbox and event.channel == contact_pb2.CHANNEL_EMAIL
        assert [(a.filename, a.content_type, a.size_bytes, a.sha256) for a in event.attachments] == [
            (filename, content_type, len(data), hashlib.sha256(data).hexdigest())
            for filename, content_type, data in attachments
        ], name
        # The customer is the normalized sender: the same person maps to the same customer, hence to their agent.
        sender = parseaddr(str(BytesParser(policy=policy.default).parsebytes(corpus_mail(name))["From"]))[1]
        assert event.customer.handle == sender.lower() and event.customer.customer_id, name
    acks = acknowledgements(gateway, {e.conversation_id for e in events.values()}, wait_for=len(events))
    assert sorted(a.conversation_id for a in acks) == sorted(e.conversation_id for e in events.values())
    for ack in acks:
        event = next(e for e in events.values() if e.conversation_id == ack.conversation_id)
        assert ack.kind == contact_pb2.OUTBOUND_KIND_AUTO_ACKNOWLEDGEMENT
        assert ack.channel == contact_pb2.CHANNEL_EMAIL and ack.contact_id == event.contact_id
        assert ack.customer == event.customer and ack.in_reply_to == event.source
        assert ack.subject.endswith(f"[#{event.source.thread_id}]")
        expected_time = "24 h" if event.source.mailbox == "support@example.com" else "48 h"
        assert expected_time in ack.body_text
    croatian = next(a for a in acks if a.language == "hr")
    assert croatian.subject.startswith("Zaprimili smo vašu poruku")


@pytest.mark.parametrize("name", ["auto_reply.eml", "bounce.eml"])
def test_auto_replies_and_bounces_are_published_but_never_acknowledged(gateway: RunningGateway, name: str) -> None:
    raw, message_id = unique(corpus_mail(name))
    assert smtp_send(gateway, raw, "support@example.com")[0] == 250
    event = inbound(gateway, [message_id])[message_id]
    assert acknowledgements(gateway, {event.conversation_id}, wait_for=0) == []


def test_a_null_sender_is_never_acknowledged(gateway: RunningGateway) -> None:
    raw, message_id = unique(corpus_mail("quoted_printable.eml"))
    assert smtp_send(gateway, raw, "support@example.com", sender="")[0] == 250
    event = inbound(gateway, [message_id])[message_id]
    assert acknowledgements(gateway, {event.conversation_id}, wait_for=0) == []


def test_a_mailbox_with_acknowledgements_disabled_sends_none(gateway: RunningGateway) -> None:
    raw, message_id = unique(corpus_mail("quoted_printable.eml"))
    assert smtp_send(gateway, raw, "noack@example.com")[0] == 250
    event = inbound(gateway, [message_id])[message_id]
    assert acknowledgements(gateway, {event.conversation_id}, wait_for=0) == []


def test_a_three_message_thread_is_one_conversation_and_redelivery_is_not_published_twice(
    gateway: RunningGateway,
) -> None:
    token = uuid.uuid4().hex[:8]
    first = EmailMessage()
    first["From"] = "Ivana Kupac <ivana.kupac@example.net>"
    first["To"] = "support@example.com"
    first["Subject"] = f"Račun {token}"
    first["Message-ID"] = f"<t1-{token}@example.net>"
    first.set_content("Dobar dan, račun za ovaj mjesec je previsok. Molim provjeru.")
    assert smtp_send(gateway, first.as_bytes(), "support@example.com")[0] == 250
    first_event = inbound(gateway, [first["Message-ID"]])[first["Message-ID"]]
    tag = first_event.source.thread_id

    second = EmailMessage()
    second["From"] = "IVANA.KUPAC@example.net"
    second["To"] = "support@example.com"
    second["Subject"] = f"Re: Račun {token}"
    second["Message-ID"] = f"<t2-{token}@example.net>"
    second["In-Reply-To"] = first["Message-ID"]
    second["References"] = first["Message-ID"]
    second.set_content(
        "Zaboravila sam priložiti broj ugovora.\n\n"
        "Dana 23. 11. 2026. u 09:15, Ivana Kupac <ivana.kupac@example.net> je napisala:\n"
        "> Dobar dan, račun za ovaj mjesec je previsok. Molim provjeru."
    )
    # Only the reference tag links the third mail: its client dropped In-Reply-To and References.
    third = EmailMessage()
    third["From"] = "ivana.kupac@example.net"
    third["To"] = "support@example.com"
    third["Subject"] = f"Re: Zaprimili smo vašu poruku [#{tag}]"
    third["Message-ID"] = f"<t3-{token}@example.net>"
    third.set_content("Imate li novosti?")
    for mail in (second, second, third):  # the second one is delivered twice
        assert smtp_send(gateway, mail.as_bytes(), "support@example.com")[0] == 250
    events = inbound(gateway, [first["Message-ID"], second["Message-ID"], third["Message-ID"]])
    conversation_ids = {event.conversation_id for event in events.values()}
    assert conversation_ids == {first_event.conversation_id}
    assert len({event.contact_id for event in events.values()}) == 3
    assert len({event.customer.customer_id for event in events.values()}) == 1
    second_event = events[second["Message-ID"]]
    assert second_event.body_text == "Zaboravila sam priložiti broj ugovora."
    assert second_event.quoted_text.startswith("Dana 23. 11. 2026. u 09:15")
    assert list(second_event.source.references) == [first["Message-ID"]]
    assert {event.source.thread_id for event in events.values()} == {tag}
    # One acknowledgement for the conversation, none for the replies.
    acks = acknowledgements(gateway, conversation_ids, wait_for=1)
    assert [ack.contact_id for ack in acks] == [first_event.contact_id]


def test_a_redelivered_message_is_answered_250_already_received(gateway: RunningGateway) -> None:
    raw, message_id = unique(corpus_mail("base64.eml"))
    assert smtp_send(gateway, raw, "billing@example.com")[0] == 250
    code, reply = smtp_send(gateway, raw, "billing@example.com")
    assert (code, reply) == (250, b"2.0.0 OK: already received")
    assert len(inbound(gateway, [message_id])) == 1
