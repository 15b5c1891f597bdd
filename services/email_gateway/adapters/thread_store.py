"""The thread store in SQL: Message-IDs and reference tags to conversations, and which mails we already have.

SQLite under DATA_DIR by default; with EMAIL_GATEWAY_DATABASE_URL every replica shares one database, so a customer's
reply reaching another replica (or arriving after a restart) still finds its conversation, and mail that another
replica already published is recognised. The tables keep their SQLite names and columns: existing files carry on.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

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


class ThreadStore:
    """Thread-safe: SMTP workers, the IMAP poller and the outbound sender share it (the engine pools connections)."""

    def __init__(self, engine: sa.Engine) -> None:
        create_tables(engine, _metadata)
        self._engine = engine

    def by_message_ids(self, message_ids: Sequence[str]) -> Conversation | None:
        """The conversation of the first of `message_ids` we know, in the given order."""
        if not message_ids:
            return None
        query = sa.select(messages.c.message_id, *_CONVERSATION).join_from(
            messages, conversations, messages.c.conversation_id == conversations.c.conversation_id
        )
        with self._engine.connect() as connection:
            found = {
                row.message_id: Conversation(row.conversation_id, row.reference_tag)
                for row in connection.execute(query.where(messages.c.message_id.in_(set(message_ids))))
            }
        return next((found[message_id] for message_id in message_ids if message_id in found), None)

    def by_tag(self, tag: str) -> Conversation | None:
        return self._conversation(conversations.c.reference_tag == tag)

    def by_id(self, conversation_id: str) -> Conversation | None:
        return self._conversation(conversations.c.conversation_id == conversation_id)

    def tag_taken(self, tag: str) -> bool:
        return self.by_tag(tag) is not None

    def contact_for(self, message_key: str) -> str | None:
        """The contact id a message was already published as, if it was."""
        query = sa.select(messages.c.contact_id).where(messages.c.message_id == message_key)
        with self._engine.connect() as connection:
            contact_id = connection.execute(query).scalar_one_or_none()
        return None if contact_id is None else str(contact_id)

    def sent(self, message_id: str) -> tuple[str, Conversation] | None:
        """(contact_id, conversation) of a mail we sent with this Message-ID, if we did."""
        query = (
            sa.select(messages.c.contact_id, *_CONVERSATION)
            .join_from(messages, conversations, messages.c.conversation_id == conversations.c.conversation_id)
            .where(messages.c.message_id == message_id, messages.c.direction == "out")
        )
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        return (str(row.contact_id), Conversation(row.conversation_id, row.reference_tag)) if row else None

    def record(self, conversation: Conversation, message_key: str, contact_id: str, direction: str = "in") -> None:
        """Remember a published (in) or sent (out) message, creating its conversation on first use.

        Both inserts keep what is there: the first replica to record a message or a conversation wins.
        """
        now = time.time()
        new_conversation = (
            upsert(self._engine, conversations)
            .values(
                conversation_id=conversation.conversation_id, reference_tag=conversation.reference_tag, created_at=now
            )
            .on_conflict_do_nothing()
        )
        new_message = (
            upsert(self._engine, messages)
            .values(
                message_id=message_key,
                conversation_id=conversation.conversation_id,
                contact_id=contact_id,
                direction=direction,
                recorded_at=now,
            )
            .on_conflict_do_nothing()
        )
        with self._engine.begin() as connection:
            connection.execute(new_conversation)
            connection.execute(new_message)

    def _conversation(self, condition: sa.ColumnElement[bool]) -> Conversation | None:
        with self._engine.connect() as connection:
            row = connection.execute(sa.select(*_CONVERSATION).where(condition)).first()
        return Conversation(row.conversation_id, row.reference_tag) if row else None
