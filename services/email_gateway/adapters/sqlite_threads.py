"""The thread store in SQLite: Message-IDs and reference tags to conversations, and which mails we already have."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from services.email_gateway.domain.threads import Conversation

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    conversation_id TEXT PRIMARY KEY,
    reference_tag TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    message_id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(conversation_id),
    contact_id TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    recorded_at REAL NOT NULL
);
"""


class ThreadStore:
    """Thread-safe: SMTP workers, the IMAP poller and the outbound sender share one connection under a lock."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)

    def by_message_ids(self, message_ids: Sequence[str]) -> Conversation | None:
        """The conversation of the first of `message_ids` we know, in the given order."""
        with self._lock:
            for message_id in message_ids:
                row = self._db.execute(
                    "SELECT c.conversation_id, c.reference_tag FROM messages m "
                    "JOIN conversations c USING (conversation_id) WHERE m.message_id = ?",
                    (message_id,),
                ).fetchone()
                if row:
                    return Conversation(row[0], row[1])
        return None

    def by_tag(self, tag: str) -> Conversation | None:
        with self._lock:
            row = self._db.execute(
                "SELECT conversation_id, reference_tag FROM conversations WHERE reference_tag = ?", (tag,)
            ).fetchone()
        return Conversation(row[0], row[1]) if row else None

    def by_id(self, conversation_id: str) -> Conversation | None:
        with self._lock:
            row = self._db.execute(
                "SELECT conversation_id, reference_tag FROM conversations WHERE conversation_id = ?",
                (conversation_id,),
            ).fetchone()
        return Conversation(row[0], row[1]) if row else None

    def tag_taken(self, tag: str) -> bool:
        return self.by_tag(tag) is not None

    def contact_for(self, message_key: str) -> str | None:
        """The contact id a message was already published as, if it was."""
        with self._lock:
            row = self._db.execute("SELECT contact_id FROM messages WHERE message_id = ?", (message_key,)).fetchone()
        return str(row[0]) if row else None

    def sent(self, message_id: str) -> tuple[str, Conversation] | None:
        """(contact_id, conversation) of a mail we sent with this Message-ID, if we did."""
        with self._lock:
            row = self._db.execute(
                "SELECT m.contact_id, c.conversation_id, c.reference_tag FROM messages m "
                "JOIN conversations c USING (conversation_id) WHERE m.message_id = ? AND m.direction = 'out'",
                (message_id,),
            ).fetchone()
        return (str(row[0]), Conversation(row[1], row[2])) if row else None

    def record(self, conversation: Conversation, message_key: str, contact_id: str, direction: str = "in") -> None:
        """Remember a published (in) or sent (out) message, creating its conversation on first use."""
        now = time.time()
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR IGNORE INTO conversations (conversation_id, reference_tag, created_at) VALUES (?, ?, ?)",
                (conversation.conversation_id, conversation.reference_tag, now),
            )
            self._db.execute(
                "INSERT OR IGNORE INTO messages (message_id, conversation_id, contact_id, direction, recorded_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (message_key, conversation.conversation_id, contact_id, direction, now),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()
