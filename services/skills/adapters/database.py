"""The SQLAlchemy engine for SQLite (embedded default) or PostgreSQL: shared plumbing in `contactrouting.database`."""

from __future__ import annotations

from contactrouting.database import create_engine, engine_url

__all__ = ["create_engine", "engine_url"]
