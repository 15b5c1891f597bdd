"""The skills catalog and the queues: named records with a description and a version, referenced by agents."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from services.skills.adapters import schema
from services.skills.domain.errors import AlreadyExists, InUse, InvalidField, NotFound, VersionConflict
from services.skills.domain.model import Page, Queue, Skill
from services.skills.domain.validation import validate_queue, validate_skill

EntryT = TypeVar("EntryT", Skill, Queue)


class CatalogStore(Generic[EntryT]):
    """CRUD for one named catalog (skills or queues); `usage` is the agent table that references it."""

    def __init__(
        self,
        engine: sa.Engine,
        kind: str,
        table: sa.Table,
        usage: sa.Column[str],
        build: Callable[[str, str, int], EntryT],
        validate: Callable[[EntryT], EntryT],
    ) -> None:
        self._engine = engine
        self._kind = kind
        self._table = table
        self._usage = usage
        self._build: Callable[[str, str, int], EntryT] = build
        self._validate: Callable[[EntryT], EntryT] = validate

    def create(self, entry: EntryT) -> EntryT:
        entry = self._validate(entry)
        if entry.version != 0:
            raise InvalidField(f"{self._kind}.version", f"must be 0 (unset) when creating a {self._kind}")
        stored = replace(entry, version=1)
        with self._engine.begin() as connection:
            if connection.scalar(sa.select(self._table.c.version).where(self._by_name(entry.name))) is not None:
                raise AlreadyExists(self._kind, entry.name)
            try:
                connection.execute(
                    self._table.insert().values(name=stored.name, description=stored.description, version=1)
                )
            except IntegrityError:
                raise AlreadyExists(self._kind, entry.name) from None
        return stored

    def update(self, entry: EntryT) -> EntryT:
        entry = self._validate(entry)
        with self._engine.begin() as connection:
            result = connection.execute(
                self._table.update()
                .where(self._by_name(entry.name), self._table.c.version == entry.version)
                .values(description=entry.description, version=self._table.c.version + 1)
            )
            if result.rowcount != 1:
                self._raise_missing_or_stale(connection, entry.name, entry.version)
        return replace(entry, version=entry.version + 1)

    def delete(self, name: str) -> None:
        with self._engine.begin() as connection:
            if connection.scalar(sa.select(self._table.c.version).where(self._by_name(name))) is None:
                raise NotFound(self._kind, name)
            users = connection.scalar(sa.select(sa.func.count()).where(self._usage == name)) or 0
            if users:
                raise InUse(self._kind, name, int(users))
            try:
                connection.execute(self._table.delete().where(self._by_name(name)))
            except IntegrityError:
                # An agent started using it between our count and the delete.
                raise InUse(self._kind, name, 1) from None

    def get(self, name: str) -> EntryT:
        with self._engine.connect() as connection:
            row = connection.execute(sa.select(self._table).where(self._by_name(name))).first()
        if row is None:
            raise NotFound(self._kind, name)
        return self._build(row.name, row.description, int(row.version))

    def list(self, page_size: int, after: str | None = None) -> Page[EntryT]:
        query = sa.select(self._table).order_by(self._table.c.name).limit(page_size + 1)
        if after:
            query = query.where(self._table.c.name > after)
        with self._engine.connect() as connection:
            rows = list(connection.execute(query))
        items = [self._build(row.name, row.description, int(row.version)) for row in rows[:page_size]]
        return Page(items=items, next_after=items[-1].name if len(rows) > page_size and items else None)

    def _by_name(self, name: str) -> sa.ColumnElement[bool]:
        return self._table.c.name == name

    def _raise_missing_or_stale(self, connection: sa.Connection, name: str, expected: int) -> None:
        actual = connection.scalar(sa.select(self._table.c.version).where(self._by_name(name)))
        if actual is None:
            raise NotFound(self._kind, name)
        raise VersionConflict(self._kind, name, expected, int(actual))


def skill_store(engine: sa.Engine) -> CatalogStore[Skill]:
    return CatalogStore(engine, "skill", schema.skills, schema.agent_skills.c.skill, Skill, validate_skill)


def queue_store(engine: sa.Engine) -> CatalogStore[Queue]:
    return CatalogStore(engine, "queue", schema.queues, schema.agent_queues.c.queue, Queue, validate_queue)
