"""Open chat surveys and answered survey questions, in SQL (the gateway's SurveyLedger), shared by every replica.

The survey is sent by whichever replica consumed the outbound record, the answer arrives at any replica: with a
shared database every replica sees the open survey. An answer is claimed in one INSERT ... ON CONFLICT statement, so
two replicas (or a rating link and a chat answer) racing for the same question cannot both publish it.

Customer ids are stored hashed, like the dedupe store's keys. An answered question is remembered long after any
ticket could still be valid; should it be forgotten anyway, a replay carries the same FeedbackEvent id and the
consumers drop it as a duplicate.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid

import sqlalchemy as sa

from contactrouting.database import create_tables, upsert
from services.social_gateway.domain.chat_surveys import OpenSurvey

ANSWERED_RETENTION_S = 180 * 86400
_PRUNE_EVERY = 1000

_metadata = sa.MetaData()
open_surveys = sa.Table(
    "social_open_surveys",
    _metadata,
    sa.Column("customer_key", sa.LargeBinary(16), primary_key=True),
    sa.Column("survey_id", sa.String(128), nullable=False),
    sa.Column("ticket", sa.Text, nullable=False),
    sa.Column("scale", sa.Integer, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False, index=True),
)
survey_answers = sa.Table(
    "social_survey_answers",
    _metadata,
    sa.Column("answer_key", sa.LargeBinary(16), primary_key=True),
    # The store instance (replica) that holds the claim: only it may release the claim.
    sa.Column("owner", sa.String(32), nullable=False),
    sa.Column("claimed_at", sa.Float, nullable=False, index=True),
    # NULL while the answer is in flight.
    sa.Column("answered_at", sa.Float, nullable=True),
)


class SqlSurveyLedger:
    """Thread-safe: request threads and the reply sender's thread share it (the engine pools connections)."""

    def __init__(
        self, engine: sa.Engine, claim_lease_s: float, answered_retention_s: float = ANSWERED_RETENTION_S
    ) -> None:
        create_tables(engine, _metadata)
        self._engine = engine
        self._owner = uuid.uuid4().hex
        self._claim_lease_s = claim_lease_s
        self._retention_s = answered_retention_s
        self._writes = 0
        self._counter_lock = threading.Lock()
        self.prune()

    def record_open(self, channel: int, customer: str, survey: OpenSurvey) -> None:
        insert = upsert(self._engine, open_surveys)
        statement = insert.values(
            customer_key=_customer_key(channel, customer),
            survey_id=survey.survey_id,
            ticket=survey.ticket,
            scale=survey.scale,
            expires_at=survey.expires_at_s,
        )
        # The newest survey replaces any earlier one of this customer on this channel.
        statement = statement.on_conflict_do_update(
            index_elements=[open_surveys.c.customer_key],
            set_={column: insert.excluded[column] for column in ("survey_id", "ticket", "scale", "expires_at")},
        )
        with self._engine.begin() as connection:
            connection.execute(statement)
        self._wrote()

    def open_survey(self, channel: int, customer: str, now_s: float) -> OpenSurvey | None:
        query = sa.select(
            open_surveys.c.survey_id, open_surveys.c.ticket, open_surveys.c.scale, open_surveys.c.expires_at
        ).where(open_surveys.c.customer_key == _customer_key(channel, customer), open_surveys.c.expires_at > now_s)
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
            if row is None:
                return None
            survey = OpenSurvey(row.survey_id, row.ticket, row.scale, row.expires_at)
            # Only a hint: claim_answer decides, in one statement, whether this answer is the one that counts.
            taken = sa.select(survey_answers.c.answer_key).where(
                survey_answers.c.answer_key == _answer_key(survey.survey_id, survey.scale),
                survey_answers.c.answered_at.is_not(None)
                | (survey_answers.c.claimed_at >= time.time() - self._claim_lease_s),
            )
            if connection.execute(taken).first() is not None:
                return None
        return survey

    def close_survey(self, channel: int, customer: str, survey_id: str) -> None:
        # Only this survey: a newer one sent meanwhile stays open.
        statement = open_surveys.delete().where(
            open_surveys.c.customer_key == _customer_key(channel, customer), open_surveys.c.survey_id == survey_id
        )
        with self._engine.begin() as connection:
            connection.execute(statement)

    def claim_answer(self, survey_id: str, scale: int) -> bool:
        now = time.time()
        insert = upsert(self._engine, survey_answers)
        statement = (
            insert.values(answer_key=_answer_key(survey_id, scale), owner=self._owner, claimed_at=now, answered_at=None)
            .on_conflict_do_update(
                index_elements=[survey_answers.c.answer_key],
                set_={"owner": insert.excluded.owner, "claimed_at": insert.excluded.claimed_at},
                # Only a lapsed claim (its replica died publishing) is taken over; an answer stays answered.
                where=survey_answers.c.answered_at.is_(None)
                & (survey_answers.c.claimed_at < now - self._claim_lease_s),
            )
            .returning(survey_answers.c.answer_key)
        )
        with self._engine.begin() as connection:
            return connection.execute(statement).first() is not None

    def confirm_answer(self, survey_id: str, scale: int) -> None:
        now = time.time()
        insert = upsert(self._engine, survey_answers)
        statement = insert.values(
            answer_key=_answer_key(survey_id, scale), owner=self._owner, claimed_at=now, answered_at=now
        ).on_conflict_do_update(
            index_elements=[survey_answers.c.answer_key],
            set_={"answered_at": insert.excluded.answered_at},
            where=survey_answers.c.answered_at.is_(None),
        )
        with self._engine.begin() as connection:
            connection.execute(statement)
        self._wrote()

    def release_answer(self, survey_id: str, scale: int) -> None:
        statement = survey_answers.delete().where(
            survey_answers.c.answer_key == _answer_key(survey_id, scale),
            survey_answers.c.owner == self._owner,
            survey_answers.c.answered_at.is_(None),
        )
        with self._engine.begin() as connection:
            connection.execute(statement)

    def prune(self) -> None:
        now = time.time()
        with self._engine.begin() as connection:
            connection.execute(open_surveys.delete().where(open_surveys.c.expires_at <= now))
            connection.execute(survey_answers.delete().where(survey_answers.c.claimed_at < now - self._retention_s))

    def _wrote(self) -> None:
        with self._counter_lock:
            self._writes += 1
            due = self._writes % _PRUNE_EVERY == 0
        if due:
            self.prune()


def _customer_key(channel: int, customer: str) -> bytes:
    return hashlib.sha256(f"{channel}:{customer}".encode()).digest()[:16]


def _answer_key(survey_id: str, scale: int) -> bytes:
    return hashlib.sha256(f"{survey_id}:{scale}".encode()).digest()[:16]
