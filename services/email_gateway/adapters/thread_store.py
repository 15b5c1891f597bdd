"""The thread store in SQL: Message-IDs and reference tags to conversations, and which mails we already have.

SQLite under DATA_DIR by default; with EMAIL_GATEWAY_DATABASE_URL every replica shares one database, so a customer's
reply reaching another replica (or arriving after a restart) still finds its conversation, and mail that another
replica already published is recognised. The tables keep their SQLite names and columns: existing files carry on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa

from contactrouting.database import create_tables, upsert
from services.email_gateway.domain.threads import Conversation

_metadata = sa.MetaData()
conversations = sa.Table(
    "conversations",
    _metadata,
    sa.Column("conversation_id", sa.Text, primary_key=True),
    sa.Column("reference_tag", sa.Text, nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
)
# No foreign key to conversations, as before: a mail is recorded after it was published, and failing then (a tag
# taken meanwhile by another replica's conversation) would only turn an accepted mail into a retried one.
messages = sa.Table(
    "messages",
    _metadata,
    sa.Column("message_id", sa.Text, primary_key=True),
    sa.Column("conversation_id", sa.Text, nullable=False),
    sa.Column("contact_id", sa.Text, nullable=False),
    sa.Column("direction", sa.Text, sa.CheckConstraint("direction IN ('in', 'out')"), nullable=False),
    sa.Column("recorded_at", sa.Float, nullable=False),
)
_CONVERSATION = (conversations.c.conversation_id, conversations.c.reference_tag)
_WITH_CONVERSATION = messages.join(conversations, messages.c.conversation_id == conversations.c.conversation_id)
# Built once with bound parameters: building a statement and its cache key per call cost more than running it.
_CONTACT_FOR = sa.select(messages.c.contact_id).where(messages.c.message_id == sa.bindparam("message_id"))
_BY_MESSAGE_IDS = (
    sa.select(messages.c.message_id, *_CONVERSATION)
    .select_from(_WITH_CONVERSATION)
    .where(messages.c.message_id.in_(sa.bindparam("message_ids", expanding=True)))
)
_SENT = (
    sa.select(messages.c.contact_id, *_CONVERSATION)
    .select_from(_WITH_CONVERSATION)
    .where(messages.c.message_id == sa.bindparam("message_id"), messages.c.direction == "out")
)
_BY_TAG = sa.select(*_CONVERSATION).where(conversations.c.reference_tag == sa.bindparam("tag"))
_BY_ID = sa.select(*_CONVERSATION).where(conversations.c.conversation_id == sa.bindparam("conversation_id"))


class ThreadReader:
    """Lookups on one connection, so the several reads of one mail cost one connection checkout and one transaction
    (on SQLite every transaction takes the database's write lock: see `contactrouting.database`)."""

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def by_message_ids(self, message_ids: Sequence[str]) -> Conversation | None:
        """The conversation of the first of `message_ids` we know, in the given order."""
        if not message_ids:
            return None
        found = {
            row.message_id: Conversation(row.conversation_id, row.reference_tag)
            for row in self._connection.execute(_BY_MESSAGE_IDS, {"message_ids": sorted(set(message_ids))})
        }
        return next((found[message_id] for message_id in message_ids if message_id in found), None)

    def by_tag(self, tag: str) -> Conversation | None:
        return self._conversation(_BY_TAG, {"tag": tag})

    def by_id(self, conversation_id: str) -> Conversation | None:
        return self._conversation(_BY_ID, {"conversation_id": conversation_id})

    def tag_taken(self, tag: str) -> bool:
        return self.by_tag(tag) is not None

    def contact_for(self, message_key: str) -> str | None:
        """The contact id a message was already published as, if it was."""
        contact_id = self._connection.execute(_CONTACT_FOR, {"message_id": message_key}).scalar_one_or_none()
        return None if contact_id is None else str(contact_id)

    def sent(self, message_id: str) -> tuple[str, Conversation] | None:
        """(contact_id, conversation) of a mail we sent with this Message-ID, if we did."""
        row = self._connection.execute(_SENT, {"message_id": message_id}).first()
        return (str(row.contact_id), Conversation(row.conversation_id, row.reference_tag)) if row else None

    def _conversation(self, query: sa.Select[tuple[str, str]], parameters: dict[str, str]) -> Conversation | None:
        row = self._connection.execute(query, parameters).first()
        return Conversation(row.conversation_id, row.reference_tag) if row else None


class ThreadStore:
    """Thread-safe: SMTP workers, the IMAP poller and the outbound sender share it (the engine pools connections)."""

    def __init__(self, engine: sa.Engine) -> None:
        create_tables(engine, _metadata)
        self._engine = engine
        self._new_conversation = upsert(engine, conversations).on_conflict_do_nothing()
        self._new_message = upsert(engine, messages).on_conflict_do_nothing()

    @contextmanager
    def reading(self) -> Iterator[ThreadReader]:
        """Several lookups on one connection; what they see is committed data, as with the single lookups below."""
        with self._engine.connect() as connection:
            yield ThreadReader(connection)

    def by_message_ids(self, message_ids: Sequence[str]) -> Conversation | None:
        """The conversation of the first of `message_ids` we know, in the given order."""
        if not message_ids:
            return None
        with self.reading() as reader:
            return reader.by_message_ids(message_ids)

    def by_tag(self, tag: str) -> Conversation | None:
        with self.reading() as reader:
            return reader.by_tag(tag)

    def by_id(self, conversation_id: str) -> Conversation | None:
        with self.reading() as reader:
            return reader.by_id(conversation_id)

    def tag_taken(self, tag: str) -> bool:
        with self.reading() as reader:
            return reader.tag_taken(tag)

    def contact_for(self, message_key: str) -> str | None:
        """The contact id a message was already published as, if it was."""
        with self.reading() as reader:
            return reader.contact_for(message_key)

    def sent(self, message_id: str) -> tuple[str, Conversation] | None:
        """(contact_id, conversation) of a mail we sent with this Message-ID, if we did."""
        with self.reading() as reader:
            return reader.sent(message_id)

    def record(self, conversation: Conversation, message_key: str, contact_id: str, direction: str = "in") -> None:
        """Remember a published (in) or sent (out) message, creating its conversation on first use.

        Both inserts keep what is there: the first replica to record a message or a conversation wins.
        """
        now = time.time()
        with self._engine.begin() as connection:
            connection.execute(
                self._new_conversation,
                {
                    "conversation_id": conversation.conversation_id,
                    "reference_tag": conversation.reference_tag,
                    "created_at": now,
                },
            )
            connection.execute(
                self._new_message,
                {
                    "message_id": message_key,
                    "conversation_id": conversation.conversation_id,
                    "contact_id": contact_id,
                    "direction": direction,
                    "recorded_at": now,
                },
            )
