"""Open chat surveys and answered survey questions, in SQLite under DATA_DIR (the gateway's SurveyLedger).

Customer ids are stored hashed, like the dedupe store's keys. An answered question is remembered long after any
ticket could still be valid; should it be forgotten anyway, a replay carries the same FeedbackEvent id and the
consumers drop it as a duplicate.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from pathlib import Path

from services.social_gateway.domain.chat_surveys import OpenSurvey

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS open_surveys (customer_key BLOB PRIMARY KEY, survey_id TEXT NOT NULL,"
    " ticket TEXT NOT NULL, scale INTEGER NOT NULL, expires_at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS answered (answer_key BLOB PRIMARY KEY, answered_at REAL NOT NULL)",
)
ANSWERED_RETENTION_S = 180 * 86400
_PRUNE_EVERY = 1000


class SqliteSurveyLedger:
    def __init__(self, path: Path, answered_retention_s: float = ANSWERED_RETENTION_S) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Request threads and the reply sender's thread share it: one lock guards the connection and the in-flight set.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        for statement in _SCHEMA:
            self._db.execute(statement)
        self._lock = threading.Lock()
        self._in_flight: set[bytes] = set()
        self._retention_s = answered_retention_s
        self._writes = 0
        with self._lock:
            self._prune_locked()

    def record_open(self, channel: int, customer: str, survey: OpenSurvey) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO open_surveys VALUES (?, ?, ?, ?, ?)",
                (_customer_key(channel, customer), survey.survey_id, survey.ticket, survey.scale, survey.expires_at_s),
            )
            self._wrote_locked()

    def open_survey(self, channel: int, customer: str, now_s: float) -> OpenSurvey | None:
        with self._lock:
            row = self._db.execute(
                "SELECT survey_id, ticket, scale, expires_at FROM open_surveys"
                " WHERE customer_key = ? AND expires_at > ?",
                (_customer_key(channel, customer), now_s),
            ).fetchone()
            if row is None:
                return None
            survey = OpenSurvey(row[0], row[1], row[2], row[3])
            if self._answered_locked(_answer_key(survey.survey_id, survey.scale)):
                return None
            return survey

    def close_survey(self, channel: int, customer: str, survey_id: str) -> None:
        with self._lock:
            # Only this survey: a newer one sent meanwhile stays open.
            self._db.execute(
                "DELETE FROM open_surveys WHERE customer_key = ? AND survey_id = ?",
                (_customer_key(channel, customer), survey_id),
            )

    def claim_answer(self, survey_id: str, scale: int) -> bool:
        key = _answer_key(survey_id, scale)
        with self._lock:
            if self._answered_locked(key):
                return False
            self._in_flight.add(key)
            return True

    def confirm_answer(self, survey_id: str, scale: int) -> None:
        key = _answer_key(survey_id, scale)
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO answered VALUES (?, ?)", (key, time.time()))
            self._in_flight.discard(key)
            self._wrote_locked()

    def release_answer(self, survey_id: str, scale: int) -> None:
        with self._lock:
            self._in_flight.discard(_answer_key(survey_id, scale))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _answered_locked(self, key: bytes) -> bool:
        if key in self._in_flight:
            return True
        return self._db.execute("SELECT 1 FROM answered WHERE answer_key = ?", (key,)).fetchone() is not None

    def _wrote_locked(self) -> None:
        self._writes += 1
        if self._writes % _PRUNE_EVERY == 0:
            self._prune_locked()

    def _prune_locked(self) -> None:
        now = time.time()
        self._db.execute("DELETE FROM open_surveys WHERE expires_at <= ?", (now,))
        self._db.execute("DELETE FROM answered WHERE answered_at < ?", (now - self._retention_s,))


def _customer_key(channel: int, customer: str) -> bytes:
    return hashlib.sha256(f"{channel}:{customer}".encode()).digest()[:16]


def _answer_key(survey_id: str, scale: int) -> bytes:
    return hashlib.sha256(f"{survey_id}:{scale}".encode()).digest()[:16]
