from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from services.skills.adapters.database import create_engine, engine_url


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u@db:5432/skills", "postgresql+psycopg"),
        ("postgres://u@db/skills", "postgresql+psycopg"),
        ("postgresql+psycopg://u@db/skills", "postgresql+psycopg"),
        ("sqlite:////var/data/skills.db", "sqlite"),
    ],
)
def test_postgresql_urls_use_psycopg_3(given: str, driver: str) -> None:
    assert engine_url(given).drivername == driver


def test_sqlite_runs_in_wal_mode_with_foreign_keys_enforced(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        connection.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        connection.exec_driver_sql("CREATE TABLE child (parent_id INTEGER REFERENCES parent (id))")
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO child VALUES (42)")


def test_database_errors_never_carry_the_bound_values(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE people (name TEXT UNIQUE)")
    insert = sa.text("INSERT INTO people VALUES (:name)")
    with engine.begin() as connection:
        connection.execute(insert, {"name": "Ivana Kupac"})
    with pytest.raises(sa.exc.IntegrityError) as error, engine.begin() as connection:
        connection.execute(insert, {"name": "Ivana Kupac"})
    assert "Ivana" not in str(error.value)
