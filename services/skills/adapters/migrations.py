"""Versioned schema migrations, applied at start inside one transaction and recorded in `schema_migrations`.

Each migration is frozen once released: it carries its own table definitions instead of importing schema.py, so
replaying history on a fresh database always yields the same schema. tests/skills/test_migrations.py checks that
the migrated schema matches schema.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
import structlog

from services.skills.adapters.schema import schema_migrations

log = structlog.get_logger()

# Any constant works; it only has to be the same in every instance that shares the database.
POSTGRES_MIGRATION_LOCK = 0x5C111_5


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[sa.Connection], None]


def _v1_initial(connection: sa.Connection) -> None:
    v1 = sa.MetaData()
    sa.Table(
        "skills",
        v1,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    sa.Table(
        "queues",
        v1,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    sa.Table(
        "agents",
        v1,
        sa.Column("agent_id", sa.String(128), primary_key=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("working_hours", sa.JSON, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    agent_fk = sa.ForeignKey("agents.agent_id", ondelete="CASCADE")
    sa.Table(
        "agent_skills",
        v1,
        sa.Column("agent_id", sa.String(128), agent_fk, primary_key=True),
        sa.Column("skill", sa.String(64), sa.ForeignKey("skills.name"), primary_key=True),
        sa.Column("proficiency", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Index("ix_agent_skills_skill_proficiency", "skill", "proficiency"),
    )
    sa.Table(
        "agent_languages",
        v1,
        sa.Column("agent_id", sa.String(128), sa.ForeignKey("agents.agent_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("language", sa.String(35), primary_key=True),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Index("ix_agent_languages_language", "language"),
    )
    sa.Table(
        "agent_capacity",
        v1,
        sa.Column("agent_id", sa.String(128), sa.ForeignKey("agents.agent_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("max_concurrent", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
    )
    sa.Table(
        "agent_queues",
        v1,
        sa.Column("agent_id", sa.String(128), sa.ForeignKey("agents.agent_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("queue", sa.String(64), sa.ForeignKey("queues.name"), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Index("ix_agent_queues_queue", "queue"),
    )
    sa.Table(
        "outbox",
        v1,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("agent_id", sa.String(128), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=True),
        # W3C traceparent of the request that made the change, so its publish joins that trace.
        sa.Column("traceparent", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Index("ix_outbox_sent_at_id", "sent_at", "id"),
    )
    v1.create_all(connection)


MIGRATIONS: tuple[Migration, ...] = (Migration(1, "agents, skills catalog, queues and the outbox", _v1_initial),)


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer build; running older code against it could corrupt it."""


def migrate(engine: sa.Engine, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Apply every pending migration in order; returns the versions applied now."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Instances starting together wait for each other instead of racing on CREATE TABLE.
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSTGRES_MIGRATION_LOCK})
        schema_migrations.create(connection, checkfirst=True)
        applied = set(connection.scalars(sa.select(schema_migrations.c.version)))
        latest = max((m.version for m in migrations), default=0)
        if applied and max(applied) > latest:
            raise SchemaTooNew(f"database schema is at version {max(applied)}, this build knows up to {latest}")
        done: list[int] = []
        for migration in sorted(migrations, key=lambda m: m.version):
            if migration.version in applied:
                continue
            migration.apply(connection)
            connection.execute(
                schema_migrations.insert().values(
                    version=migration.version, name=migration.name, applied_at=datetime.now(UTC)
                )
            )
            log.info("schema_migrated", version=migration.version, migration=migration.name)
            done.append(migration.version)
        return done
