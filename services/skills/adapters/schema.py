"""The current shape of the tables, for queries. Changes to it are made through a new migration in migrations.py."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

skills = sa.Table(
    "skills",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("description", sa.String(500), nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
)

queues = sa.Table(
    "queues",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("description", sa.String(500), nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
)

agents = sa.Table(
    "agents",
    metadata,
    sa.Column("agent_id", sa.String(128), primary_key=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("time_zone", sa.String(64), nullable=False),
    # [{"weekday": 1, "start": "08:00", "end": "16:00"}, ...]: never filtered on, so kept as one JSON document.
    sa.Column("working_hours", sa.JSON, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
)

# Child tables keep `position` so an agent reads back exactly as it was written.
agent_skills = sa.Table(
    "agent_skills",
    metadata,
    sa.Column("agent_id", sa.String(128), sa.ForeignKey("agents.agent_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("skill", sa.String(64), sa.ForeignKey("skills.name"), primary_key=True),
    sa.Column("proficiency", sa.Integer, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Index("ix_agent_skills_skill_proficiency", "skill", "proficiency"),
)

agent_languages = sa.Table(
    "agent_languages",
    metadata,
    sa.Column("agent_id", sa.String(128), sa.ForeignKey("agents.agent_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("language", sa.String(35), primary_key=True),
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Index("ix_agent_languages_language", "language"),
)

agent_capacity = sa.Table(
    "agent_capacity",
    metadata,
    sa.Column("agent_id", sa.String(128), sa.ForeignKey("agents.agent_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("channel", sa.String(16), primary_key=True),
    sa.Column("max_concurrent", sa.Integer, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
)

agent_queues = sa.Table(
    "agent_queues",
    metadata,
    sa.Column("agent_id", sa.String(128), sa.ForeignKey("agents.agent_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("queue", sa.String(64), sa.ForeignKey("queues.name"), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Index("ix_agent_queues_queue", "queue"),
)

# One row per change to publish; `payload` is the serialized AgentProfile, NULL for a tombstone.
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("agent_id", sa.String(128), nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=True),
    # W3C traceparent of the request that made the change, so its publish joins that trace.
    sa.Column("traceparent", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_outbox_sent_at_id", "sent_at", "id"),
)

schema_migrations = sa.Table(
    "schema_migrations",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)
