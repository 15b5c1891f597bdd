"""The thread store on SQLite and PostgreSQL, and two replicas sharing one database: a reply reaching the other
replica finds its conversation, and mail one replica published is a duplicate on the other."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa

from contactrouting.database import create_engine
from services.email_gateway.adapters.thread_store import ThreadStore
from services.email_gateway.domain.threads import Conversation

BILLING = Conversation("conv-billing", "AB23CD")


def test_messages_find_their_conversation_by_id_tag_and_reference(store_engine: sa.Engine) -> None:
    threads = ThreadStore(store_engine)
    assert threads.by_message_ids(["<1@customer>"]) is None
    assert threads.contact_for("<1@customer>") is None
    threads.record(BILLING, "<1@customer>", "contact-1")
    threads.record(BILLING, "<2@us>", "contact-1", direction="out")
    assert threads.by_message_ids(["<unknown@x>", "<2@us>", "<1@customer>"]) == BILLING
    assert threads.by_message_ids([]) is None
    assert threads.by_tag("AB23CD") == threads.by_id("conv-billing") == BILLING
    assert threads.tag_taken("AB23CD") and not threads.tag_taken("ZZZZZZ")
    assert threads.contact_for("<1@customer>") == "contact-1"
    assert threads.sent("<2@us>") == ("contact-1", BILLING)
    assert threads.sent("<1@customer>") is None  # received, not sent


def test_one_reading_answers_every_lookup_of_a_mail(store_engine: sa.Engine) -> None:
    threads = ThreadStore(store_engine)
    threads.record(BILLING, "<1@customer>", "contact-1")
    threads.record(BILLING, "<2@us>", "contact-1", direction="out")
    with threads.reading() as reader:
        assert reader.contact_for("<1@customer>") == "contact-1"
        assert reader.contact_for("<new@customer>") is None
        assert reader.sent("<2@us>") == ("contact-1", BILLING)
        assert reader.by_message_ids(["<x@y>", "<2@us>"]) == BILLING
        assert reader.by_tag("AB23CD") == reader.by_id("conv-billing") == BILLING
        assert reader.tag_taken("AB23CD") and not reader.tag_taken("ZZZZZZ")
    # What another writer committed meanwhile is seen by the next reading.
    threads.record(Conversation("conv-other", "EF45GH"), "<3@customer>", "contact-3")
    with threads.reading() as reader:
        assert reader.by_message_ids(["<3@customer>"]) == Conversation("conv-other", "EF45GH")


def test_the_nearest_known_reference_wins(store_engine: sa.Engine) -> None:
    threads = ThreadStore(store_engine)
    other = Conversation("conv-other", "EF45GH")
    threads.record(BILLING, "<old@us>", "contact-1", direction="out")
    threads.record(other, "<new@us>", "contact-2", direction="out")
    assert threads.by_message_ids(["<new@us>", "<old@us>"]) == other
    assert threads.by_message_ids(["<old@us>", "<new@us>"]) == BILLING


def test_the_first_record_of_a_message_or_conversation_stays(store_engine: sa.Engine) -> None:
    threads = ThreadStore(store_engine)
    threads.record(BILLING, "<1@customer>", "contact-1")
    threads.record(Conversation("conv-billing", "XXXXXX"), "<1@customer>", "contact-9")
    assert threads.contact_for("<1@customer>") == "contact-1"
    assert threads.by_id("conv-billing") == BILLING


def test_replicas_on_one_database_share_threads(open_engine: Callable[[], sa.Engine]) -> None:
    first, second = ThreadStore(open_engine()), ThreadStore(open_engine())
    first.record(BILLING, "<question@customer>", "contact-1")
    first.record(BILLING, "<answer@us>", "contact-1", direction="out")
    # The customer's reply and a redelivery of the first mail both reach the other replica.
    assert second.by_message_ids(["<answer@us>"]) == BILLING
    assert second.by_tag("AB23CD") == BILLING
    assert second.contact_for("<question@customer>") == "contact-1"
    assert second.sent("<answer@us>") == ("contact-1", BILLING)


def test_replicas_recording_the_same_mail_at_once_keep_one_record(open_engine: Callable[[], sa.Engine]) -> None:
    replicas = [ThreadStore(open_engine()) for _ in range(4)]

    def record(index: int) -> None:
        conversation = Conversation(f"conv-{index}", f"TAG{index:03d}")
        for n in range(20):
            replicas[index % 4].record(conversation, f"<{n}@customer>", f"contact-{index}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(record, range(8)))
    # Every mail is recorded once, and with the conversation of the replica that recorded it first.
    for n in range(20):
        conversation = replicas[1].by_message_ids([f"<{n}@customer>"])
        assert conversation is not None
        winner = conversation.conversation_id.removeprefix("conv-")
        assert replicas[2].contact_for(f"<{n}@customer>") == f"contact-{winner}"


def test_a_thread_file_of_the_previous_version_carries_on(tmp_path: Path) -> None:
    path = tmp_path / "email_gateway.db"
    with sqlite3.connect(path) as old:
        old.executescript(
            "CREATE TABLE conversations (conversation_id TEXT PRIMARY KEY, reference_tag TEXT NOT NULL UNIQUE,"
            " created_at REAL NOT NULL);"
            "CREATE TABLE messages (message_id TEXT PRIMARY KEY,"
            " conversation_id TEXT NOT NULL REFERENCES conversations(conversation_id), contact_id TEXT NOT NULL,"
            " direction TEXT NOT NULL CHECK (direction IN ('in', 'out')), recorded_at REAL NOT NULL);"
            "INSERT INTO conversations VALUES ('conv-billing', 'AB23CD', 1.0);"
            "INSERT INTO messages VALUES ('<2@us>', 'conv-billing', 'contact-1', 'out', 1.0);"
        )
    old.close()
    engine = create_engine(f"sqlite:///{path}")
    threads = ThreadStore(engine)
    assert threads.sent("<2@us>") == ("contact-1", BILLING)
    threads.record(BILLING, "<3@customer>", "contact-2")
    assert threads.by_message_ids(["<3@customer>"]) == BILLING
    engine.dispose()
