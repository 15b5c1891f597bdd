"""Message keys claimed or already handled, in SQL, so a retried delivery is never handled twice.

One row per key, whichever replica sees it first: a claim is a single INSERT ... ON CONFLICT statement, so two
replicas racing for the same key cannot both win (PostgreSQL row locks; SQLite's write lock). A claim is in flight
until confirmed (kept for the retention) or released (deleted); a claim whose replica died holding it lapses after
the claim lease, and a retry may claim it again.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from contactrouting.database import create_tables, upsert
from services.social_gateway.adapters.group_commit import GroupCommit

_PRUNE_EVERY = 1000


def seen_table(name: str, metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        # Hashed: chat and user ids never rest in the database.
        sa.Column("key_hash", sa.LargeBinary(16), primary_key=True),
        # The store instance (replica) that holds the claim: only it may release the claim.
        sa.Column("owner", sa.String(32), nullable=False),
        sa.Column("claimed_at", sa.Float, nullable=False, index=True),
        # NULL while in flight.
        sa.Column("confirmed_at", sa.Float, nullable=True),
    )


@dataclass(frozen=True, slots=True)
class _Write:
    """One caller's claims and confirmations, by key hash."""

    claims: tuple[bytes, ...] = ()
    confirms: tuple[bytes, ...] = ()


class SqlSeenMessages:
    """The SeenMessages of the intake (published ids) and of the reply sender (sent ids); thread-safe.

    Claims and confirmations of concurrent callers share transactions (group commit): one round trip per
    transaction, not per request.
    """

    def __init__(self, engine: sa.Engine, table_name: str, retention_s: float, claim_lease_s: float) -> None:
        metadata = sa.MetaData()
        self._table = seen_table(table_name, metadata)
        create_tables(engine, metadata)
        self._engine = engine
        self._owner = uuid.uuid4().hex
        self._retention_s = retention_s
        self._claim_lease_s = claim_lease_s
        self._upsert = _claim_or_confirm(engine, self._table)
        self._writes: GroupCommit[_Write, set[bytes]] = GroupCommit(self._commit)
        self._confirms = 0
        self._counter_lock = threading.Lock()
        self.prune()

    def claim(self, keys: Sequence[str]) -> list[str]:
        hashes = {key: _hash(key) for key in keys}  # repeats dropped, order kept
        if not hashes:
            return []
        won = self._writes.submit(_Write(claims=tuple(hashes.values())))
        return [key for key, key_hash in hashes.items() if key_hash in won]

    def confirm(self, key: str) -> None:
        self.confirm_all([key])

    def confirm_all(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        confirms = tuple({_hash(key) for key in keys})
        self._writes.submit(_Write(confirms=confirms))
        with self._counter_lock:
            before = self._confirms
            self._confirms += len(confirms)
            due = self._confirms // _PRUNE_EVERY != before // _PRUNE_EVERY
        if due:
            self.prune()

    def _commit(self, writes: Sequence[_Write]) -> list[set[bytes]]:
        """One statement for every claim and confirmation queued: the key hashes each claim won."""
        confirms = {key_hash for write in writes for key_hash in write.confirms}
        # A key confirmed in this batch is published: a claim of it (a retry) loses, as it would after the confirm.
        claims = {key_hash for write in writes for key_hash in write.claims} - confirms
        now = time.time()
        # Sorted: replicas writing overlapping batches lock the rows in the same order, so they cannot deadlock.
        rows = [
            {
                "key_hash": key_hash,
                "owner": self._owner,
                "claimed_at": now,
                "confirmed_at": now if key_hash in confirms else None,
                "lease_s": self._claim_lease_s,
            }
            for key_hash in sorted(confirms | claims)
        ]
        with self._engine.begin() as connection:
            # One row: a plain execute. More: executemany, which SQLAlchemy sends as one multi-row INSERT.
            won = set(connection.execute(self._upsert, rows if len(rows) > 1 else rows[0]).scalars()) & claims
        results: list[set[bytes]] = []
        for write in writes:
            # Two callers claiming one key (a retry racing the original): the first queued wins it.
            mine = won.intersection(write.claims)
            won -= mine
            results.append(mine)
        return results

    def release(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        table = self._table
        statement = table.delete().where(
            table.c.key_hash.in_({_hash(key) for key in keys}),
            table.c.owner == self._owner,
            table.c.confirmed_at.is_(None),
        )
        with self._engine.begin() as connection:
            connection.execute(statement)

    def confirmed(self, keys: Sequence[str]) -> set[str]:
        hashes = {key: _hash(key) for key in keys}
        if not hashes:
            return set()
        table = self._table
        statement = sa.select(table.c.key_hash).where(
            table.c.key_hash.in_(set(hashes.values())), table.c.confirmed_at.is_not(None)
        )
        with self._engine.connect() as connection:
            done = set(connection.execute(statement).scalars())
        return {key for key, key_hash in hashes.items() if key_hash in done}

    def prune(self) -> None:
        """Platforms stop retrying after a day or two; older keys only cost space."""
        table = self._table
        with self._engine.begin() as connection:
            connection.execute(table.delete().where(table.c.claimed_at < time.time() - self._retention_s))


def _claim_or_confirm(engine: sa.Engine, table: sa.Table) -> sa.Executable:
    """One upsert for both: a row without `confirmed_at` claims its key, a row with it confirms the key.

    A claim takes over only a lapsed claim; a confirmation settles any claim. A confirmed key never changes again.
    Built once, so SQLAlchemy reuses its compiled form.
    """
    insert = upsert(engine, table)
    claiming = insert.excluded.confirmed_at.is_(None)
    return insert.on_conflict_do_update(
        index_elements=[table.c.key_hash],
        set_={
            "owner": sa.case((claiming, insert.excluded.owner), else_=table.c.owner),
            "claimed_at": sa.case((claiming, insert.excluded.claimed_at), else_=table.c.claimed_at),
            "confirmed_at": insert.excluded.confirmed_at,
        },
        where=table.c.confirmed_at.is_(None)
        & (
            insert.excluded.confirmed_at.is_not(None)
            | (table.c.claimed_at < insert.excluded.claimed_at - sa.bindparam("lease_s", type_=sa.Float))
        ),
    ).returning(table.c.key_hash)


def _hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()[:16]
