"""SQLAlchemy engines for SQLite (the embedded default) or PostgreSQL (a URL shared by every replica).

Also idempotent table creation and the dialect's INSERT ... ON CONFLICT, which stores use to claim rows in one
race-safe statement.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import ArgumentError

# Any fixed 64-bit number: the advisory lock under which schemas are created.
_SCHEMA_LOCK_KEY = 0x636F6E7461637472
# Tries at switching a new SQLite file to WAL, about 2 s in all.
_WAL_ATTEMPTS = 20


def engine_url(database_url: str) -> sa.URL:
    """`postgresql://` and `postgres://` use psycopg 3, the maintained driver."""
    url = sa.make_url(database_url.replace("postgres://", "postgresql://", 1))
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def check_database_url(database_url: str, setting: str) -> None:
    """Refuse at start what create_engine could not use; the message names the setting, never the URL (a password)."""
    try:
        backend = engine_url(database_url).get_backend_name()
    except ArgumentError:
        raise ValueError(f"{setting} is not a database URL") from None
    if backend not in ("postgresql", "sqlite"):
        raise ValueError(f"{setting} must be a postgresql:// or sqlite:// URL")


def create_engine(database_url: str) -> sa.Engine:
    """hide_parameters: database errors end up in logs, and their bound values may be names or ids (PII)."""
    url = engine_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True)


def create_tables(engine: sa.Engine, metadata: sa.MetaData) -> None:
    """Create what is missing, in one transaction; safe when replicas start together (on PostgreSQL, two concurrent
    checks-then-CREATEs would race on the catalog, so they take turns under an advisory lock)."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
        metadata.create_all(connection)


def upsert(engine: sa.Engine, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """INSERT with `on_conflict_do_nothing` / `on_conflict_do_update`, which both backends support alike."""
    if engine.dialect.name == "postgresql":
        return postgresql.insert(table)
    if engine.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"unsupported database backend: {engine.dialect.name}")


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling defers BEGIN; we issue it ourselves (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        _use_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # Take the write lock up front: a deferred transaction that later tries to write can fail with
        # "database is locked" instead of waiting for the busy timeout.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _use_wal(cursor: Any) -> None:
    """WAL is kept in the file, so only the first connection switches it. Connections opening a new file at the
    same moment (replicas starting together) can get "database is locked" on the switch without the busy timeout
    being used (SQLite refuses to wait where waiting could deadlock), so the switch is retried briefly."""
    for attempt in range(_WAL_ATTEMPTS):
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == _WAL_ATTEMPTS - 1:
                raise
            time.sleep(0.01 * (attempt + 1))
