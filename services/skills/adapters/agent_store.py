"""Agents in SQL. Every change writes the agent's rows and its outbox record in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from contactrouting.tracing import current_traceparent
from services.skills.adapters import schema
from services.skills.adapters.proto_mapping import agent_to_proto
from services.skills.domain.errors import AlreadyExists, InvalidField, NotFound, VersionConflict
from services.skills.domain.model import (
    Agent,
    AgentFilter,
    Channel,
    ChannelCapacity,
    LanguageLevel,
    Page,
    SkillLevel,
    WorkingHours,
)
from services.skills.domain.validation import validate_agent

KIND = "agent"
# Rows per IN (...) list when loading children; well below SQLite's and PostgreSQL's parameter limits.
CHUNK = 500


class AgentStore:
    def __init__(self, engine: sa.Engine, on_change: Callable[[], None] = lambda: None) -> None:
        self._engine = engine
        # Wakes the outbox relay after a commit, so a change is published without waiting for its next poll.
        self._on_change = on_change

    # --- writes ------------------------------------------------------------------------------------------------
    def create(self, agent: Agent) -> Agent:
        if agent.version != 0:
            raise InvalidField("agent.version", "must be 0 (unset) when creating an agent")
        with self._engine.begin() as connection:
            stored = replace(self._validated(connection, agent), version=1)
            if connection.scalar(sa.select(schema.agents.c.version).where(_by_id(agent.agent_id))) is not None:
                raise AlreadyExists(KIND, agent.agent_id)
            try:
                connection.execute(schema.agents.insert().values(_agent_row(stored)))
            except IntegrityError:
                raise AlreadyExists(KIND, agent.agent_id) from None
            _insert_children(connection, stored)
            _enqueue(connection, stored.agent_id, stored)
        self._on_change()
        return stored

    def update(self, agent: Agent) -> Agent:
        """Replace the agent; `agent.version` must be the stored version (optimistic concurrency)."""
        with self._engine.begin() as connection:
            validated = self._validated(connection, agent)
            result = connection.execute(
                schema.agents.update()
                .where(_by_id(agent.agent_id), schema.agents.c.version == agent.version)
                .values({**_agent_row(validated), "version": schema.agents.c.version + 1})
            )
            if result.rowcount != 1:
                self._raise_missing_or_stale(connection, agent.agent_id, agent.version)
            stored = replace(validated, version=agent.version + 1)
            for table in _CHILD_TABLES:
                connection.execute(table.delete().where(table.c.agent_id == agent.agent_id))
            _insert_children(connection, stored)
            _enqueue(connection, stored.agent_id, stored)
        self._on_change()
        return stored

    def delete(self, agent_id: str, expected_version: int = 0) -> None:
        """Delete and publish a tombstone; `expected_version` 0 skips the version check."""
        with self._engine.begin() as connection:
            condition = _by_id(agent_id)
            if expected_version:
                condition = sa.and_(condition, schema.agents.c.version == expected_version)
            exists = connection.scalar(sa.select(schema.agents.c.version).where(condition).with_for_update())
            if exists is None:
                self._raise_missing_or_stale(connection, agent_id, expected_version)
            # Children explicitly: the cascade is declared too, but SQLite honours it only with its pragma on.
            for table in _CHILD_TABLES:
                connection.execute(table.delete().where(table.c.agent_id == agent_id))
            connection.execute(schema.agents.delete().where(condition))
            _enqueue(connection, agent_id, None)
        self._on_change()

    def republish(self) -> int:
        """Queue every agent's current profile for publishing again, in one transaction; returns the count."""
        count = 0
        with self._engine.begin() as connection:
            # Locking the rows keeps a concurrent update from slipping its newer version in before our copy.
            ids = list(
                connection.scalars(
                    sa.select(schema.agents.c.agent_id).order_by(schema.agents.c.agent_id).with_for_update()
                )
            )
            for start in range(0, len(ids), CHUNK):
                for agent in _load(connection, ids[start : start + CHUNK]):
                    _enqueue(connection, agent.agent_id, agent)
                    count += 1
        self._on_change()
        return count

    # --- reads -------------------------------------------------------------------------------------------------
    def get(self, agent_id: str) -> Agent:
        with self._engine.connect() as connection:
            found = _load(connection, [agent_id])
        if not found:
            raise NotFound(KIND, agent_id)
        return found[0]

    def list(self, agent_filter: AgentFilter, page_size: int, after: str | None = None) -> Page[Agent]:
        agents = schema.agents
        query = sa.select(agents.c.agent_id).order_by(agents.c.agent_id).limit(page_size + 1)
        if after:
            query = query.where(agents.c.agent_id > after)
        for condition in _filter_conditions(agent_filter):
            query = query.where(condition)
        with self._engine.connect() as connection:
            ids = list(connection.scalars(query))
            more = len(ids) > page_size
            items = _load(connection, ids[:page_size])
        return Page(items=items, next_after=items[-1].agent_id if more and items else None)

    # --- internals ---------------------------------------------------------------------------------------------
    @staticmethod
    def _validated(connection: sa.Connection, agent: Agent) -> Agent:
        skills = _existing(connection, schema.skills, {s.skill for s in agent.skills})
        queues = _existing(connection, schema.queues, set(agent.queues))
        return validate_agent(agent, skills, queues)

    @staticmethod
    def _raise_missing_or_stale(connection: sa.Connection, agent_id: str, expected: int) -> None:
        actual = connection.scalar(sa.select(schema.agents.c.version).where(_by_id(agent_id)))
        if actual is None:
            raise NotFound(KIND, agent_id)
        raise VersionConflict(KIND, agent_id, expected, int(actual))


_CHILD_TABLES = (schema.agent_skills, schema.agent_languages, schema.agent_capacity, schema.agent_queues)


def _by_id(agent_id: str) -> sa.ColumnElement[bool]:
    return schema.agents.c.agent_id == agent_id


def _existing(connection: sa.Connection, table: sa.Table, names: set[str]) -> set[str]:
    if not names:
        return set()
    return set(connection.scalars(sa.select(table.c.name).where(table.c.name.in_(names))))


def _filter_conditions(agent_filter: AgentFilter) -> list[sa.ColumnElement[bool]]:
    agent_id = schema.agents.c.agent_id
    conditions: list[sa.ColumnElement[bool]] = []
    if agent_filter.skill:
        skills = schema.agent_skills
        conditions.append(
            sa.exists().where(
                skills.c.agent_id == agent_id,
                skills.c.skill == agent_filter.skill,
                skills.c.proficiency >= agent_filter.min_proficiency,
            )
        )
    if agent_filter.language:
        languages = schema.agent_languages
        # "hr" matches agents who speak "hr" or a regional variant such as "hr-HR".
        conditions.append(
            sa.exists().where(
                languages.c.agent_id == agent_id,
                sa.or_(
                    languages.c.language == agent_filter.language,
                    languages.c.language.startswith(agent_filter.language + "-", autoescape=True),
                ),
            )
        )
    if agent_filter.queue:
        queues = schema.agent_queues
        conditions.append(sa.exists().where(queues.c.agent_id == agent_id, queues.c.queue == agent_filter.queue))
    if agent_filter.active_only:
        conditions.append(schema.agents.c.active.is_(True))
    return conditions


def _agent_row(agent: Agent) -> dict[str, Any]:
    return {
        "agent_id": agent.agent_id,
        "display_name": agent.display_name,
        "active": agent.active,
        "time_zone": agent.time_zone,
        "working_hours": [{"weekday": h.weekday, "start": h.start, "end": h.end} for h in agent.working_hours],
        "version": agent.version,
    }


def _insert_children(connection: sa.Connection, agent: Agent) -> None:
    rows: Sequence[tuple[sa.Table, list[dict[str, Any]]]] = (
        (
            schema.agent_skills,
            [
                {"agent_id": agent.agent_id, "skill": s.skill, "proficiency": s.proficiency, "position": i}
                for i, s in enumerate(agent.skills)
            ],
        ),
        (
            schema.agent_languages,
            [
                {"agent_id": agent.agent_id, "language": lang.language, "level": lang.level, "position": i}
                for i, lang in enumerate(agent.languages)
            ],
        ),
        (
            schema.agent_capacity,
            [
                {
                    "agent_id": agent.agent_id,
                    "channel": c.channel.value,
                    "max_concurrent": c.max_concurrent,
                    "position": i,
                }
                for i, c in enumerate(agent.capacity)
            ],
        ),
        (
            schema.agent_queues,
            [{"agent_id": agent.agent_id, "queue": q, "position": i} for i, q in enumerate(agent.queues)],
        ),
    )
    for table, values in rows:
        if values:
            connection.execute(table.insert(), values)


def _enqueue(connection: sa.Connection, agent_id: str, agent: Agent | None) -> None:
    connection.execute(
        schema.outbox.insert().values(
            agent_id=agent_id,
            payload=agent_to_proto(agent).SerializeToString() if agent is not None else None,
            traceparent=current_traceparent(),
            created_at=datetime.now(UTC),
            sent_at=None,
        )
    )


def _load(connection: sa.Connection, ids: Iterable[str]) -> list[Agent]:
    """The agents with these ids, in the order given; missing ids are skipped."""
    wanted = list(ids)
    if not wanted:
        return []
    rows = {
        row.agent_id: row
        for row in connection.execute(sa.select(schema.agents).where(schema.agents.c.agent_id.in_(wanted)))
    }
    children = {table.name: _children(connection, table, wanted) for table in _CHILD_TABLES}
    agents: list[Agent] = []
    for agent_id in wanted:
        row = rows.get(agent_id)
        if row is None:
            continue
        agents.append(
            Agent(
                agent_id=row.agent_id,
                display_name=row.display_name,
                skills=tuple(SkillLevel(r.skill, r.proficiency) for r in children["agent_skills"].get(agent_id, [])),
                languages=tuple(
                    LanguageLevel(r.language, r.level) for r in children["agent_languages"].get(agent_id, [])
                ),
                capacity=tuple(
                    ChannelCapacity(Channel(r.channel), r.max_concurrent)
                    for r in children["agent_capacity"].get(agent_id, [])
                ),
                queues=tuple(r.queue for r in children["agent_queues"].get(agent_id, [])),
                active=bool(row.active),
                time_zone=row.time_zone,
                working_hours=tuple(WorkingHours(h["weekday"], h["start"], h["end"]) for h in row.working_hours),
                version=int(row.version),
            )
        )
    return agents


def _children(connection: sa.Connection, table: sa.Table, ids: list[str]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    query = sa.select(table).where(table.c.agent_id.in_(ids)).order_by(table.c.agent_id, table.c.position)
    for row in connection.execute(query):
        grouped.setdefault(row.agent_id, []).append(row)
    return grouped
