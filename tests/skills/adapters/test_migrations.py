"""The migration table: applied once, in one transaction, and the result matches schema.py on both databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.skills.adapters import schema
from services.skills.adapters.database import create_engine
from services.skills.adapters.migrations import MIGRATIONS, Migration, SchemaTooNew, migrate

from ..postgres import TempPostgres


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'skills.db'}"
    else:
        server: TempPostgres = request.getfixturevalue("postgres_server")
        url = server.create_database()
    engine = create_engine(url)
    yield engine
    engine.dispose()


def test_a_fresh_database_gets_every_migration_once(engine: sa.Engine) -> None:
    assert migrate(engine) == [m.version for m in MIGRATIONS]
    assert migrate(engine) == []
    with engine.connect() as connection:
        rows = connection.execute(sa.select(schema.schema_migrations.c.version, schema.schema_migrations.c.name))
        assert [(v, n) for v, n in rows] == [(m.version, m.name) for m in MIGRATIONS]


def test_the_migrated_schema_is_the_one_schema_py_describes(engine: sa.Engine) -> None:
    migrate(engine)
    inspector = sa.inspect(engine)
    assert set(inspector.get_table_names()) == set(schema.metadata.tables)
    for table in schema.metadata.sorted_tables:
        columns = {c["name"]: c for c in inspector.get_columns(table.name)}
        assert set(columns) == {c.name for c in table.columns}, table.name
        for column in table.columns:
            assert columns[column.name]["nullable"] == column.nullable, f"{table.name}.{column.name}"
        primary_key = inspector.get_pk_constraint(table.name)["constrained_columns"]
        assert set(primary_key) == {c.name for c in table.primary_key}, table.name
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        assert {i.name for i in table.indexes} <= indexes, table.name
        foreign_keys = {
            (fk["referred_table"], tuple(fk["constrained_columns"])) for fk in inspector.get_foreign_keys(table.name)
        }
        expected = {(fk.column.table.name, (fk.parent.name,)) for fk in table.foreign_keys}
        assert foreign_keys == expected, table.name


def test_a_failing_migration_leaves_no_trace(engine: sa.Engine) -> None:
    migrate(engine)

    def broken(connection: sa.Connection) -> None:
        connection.execute(sa.text("CREATE TABLE half_done (id INTEGER PRIMARY KEY)"))
        raise RuntimeError("migration 2 fails half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        migrate(engine, (*MIGRATIONS, Migration(2, "broken", broken)))
    assert "half_done" not in sa.inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.max(schema.schema_migrations.c.version))) == 1


def test_a_later_migration_applies_on_top_of_the_released_ones(engine: sa.Engine) -> None:
    migrate(engine)

    def add_column(connection: sa.Connection) -> None:
        connection.execute(sa.text("ALTER TABLE queues ADD COLUMN color VARCHAR(16)"))

    assert migrate(engine, (*MIGRATIONS, Migration(2, "queue colors", add_column))) == [2]
    assert "color" in {c["name"] for c in sa.inspect(engine).get_columns("queues")}


def test_a_database_from_a_newer_build_is_refused(engine: sa.Engine) -> None:
    migrate(engine, (*MIGRATIONS, Migration(2, "from the future", lambda connection: None)))
    with pytest.raises(SchemaTooNew, match="version 2"):
        migrate(engine)


def test_instances_starting_together_migrate_once(postgres_server: TempPostgres) -> None:
    url = postgres_server.create_database()
    engines = [create_engine(url), create_engine(url)]
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def run(engine: sa.Engine) -> None:
        try:
            results.append(migrate(engine))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert sorted(results) == [[], [1]]
