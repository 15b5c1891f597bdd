"""One publishing relay per database: with several service instances on one PostgreSQL, two relays would publish
the same records concurrently and could interleave one agent's changes. The lease is a session-level advisory lock
held on a dedicated connection; it goes away with that connection, so a crashed instance frees it at once.
SQLite is a single-process database here, so its lease is always granted.
"""

from __future__ import annotations

import contextlib

import sqlalchemy as sa
import structlog
from sqlalchemy.exc import DBAPIError

log = structlog.get_logger()

# Any constant works; it only has to be the same in every instance that shares the database.
RELAY_LOCK_KEY = 0x5C111_0B


class RelayLease:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._connection: sa.Connection | None = None
        self._exclusive = engine.dialect.name == "postgresql"

    def held(self) -> bool:
        """True when this process may publish; takes the lease when it is free."""
        if not self._exclusive:
            return True
        if self._connection is not None:
            try:
                self._connection.execute(sa.text("SELECT 1"))
                return True
            except DBAPIError:
                log.warning("outbox_relay_lease_lost")
                self.release()
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            granted = bool(connection.scalar(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": RELAY_LOCK_KEY}))
        except DBAPIError:
            connection.close()
            raise
        if not granted:
            connection.close()
            return False
        self._connection = connection
        log.info("outbox_relay_lease_acquired")
        return True

    def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(DBAPIError):
                self._connection.close()
            self._connection = None
