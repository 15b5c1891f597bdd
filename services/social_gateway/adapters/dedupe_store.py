"""Platform message ids already published, in SQLite under DATA_DIR, so retried deliveries never publish twice."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

_SCHEMA = "CREATE TABLE IF NOT EXISTS published (key_hash BLOB PRIMARY KEY, published_at REAL NOT NULL)"
_PRUNE_EVERY = 1000


class SqliteSeenMessages:
    """Confirmed keys live in SQLite (hashed: chat and user ids never rest on disk); in-flight ones in memory."""

    def __init__(self, path: Path, retention_s: float) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Acks confirm from the producer's I/O thread, claims come from request threads: one lock guards both.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._lock = threading.Lock()
        self._in_flight: set[bytes] = set()
        self._retention_s = retention_s
        self._confirms = 0
        self._prune()

    def claim(self, keys: Sequence[str]) -> list[str]:
        hashes = {key: _hash(key) for key in keys}
        if not hashes:
            return []
        with self._lock:
            placeholders = ",".join("?" * len(hashes))
            known = {
                row[0]
                for row in self._db.execute(
                    f"SELECT key_hash FROM published WHERE key_hash IN ({placeholders})", list(hashes.values())
                )
            }
            claimed: list[str] = []
            for key, key_hash in hashes.items():
                if key_hash in known or key_hash in self._in_flight:
                    continue
                self._in_flight.add(key_hash)
                claimed.append(key)
            return claimed

    def confirm(self, key: str) -> None:
        key_hash = _hash(key)
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO published VALUES (?, ?)", (key_hash, time.time()))
            self._in_flight.discard(key_hash)
            self._confirms += 1
            if self._confirms % _PRUNE_EVERY == 0:
                self._prune_locked()

    def release(self, keys: Sequence[str]) -> None:
        with self._lock:
            for key in keys:
                self._in_flight.discard(_hash(key))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _prune(self) -> None:
        with self._lock:
            self._prune_locked()

    def _prune_locked(self) -> None:
        # Platforms stop retrying after a day or two; older keys only cost space.
        self._db.execute("DELETE FROM published WHERE published_at < ?", (time.time() - self._retention_s,))


def _hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()[:16]
