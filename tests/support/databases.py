"""Fixtures for stores that run on either database: tests taking `store_url`, `open_engine` or `store_engine` run once
per backend, SQLite always and PostgreSQL when Debian's `postgresql` package is installed (a throwaway server on a
free port), otherwise that variant is skipped. A test package imports these fixtures into its conftest.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from contactrouting.database import create_engine
from support.postgres import SKIP_REASON, TempPostgres, pg_bin_dir


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[TempPostgres]:
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        pytest.skip(SKIP_REASON)
    server = TempPostgres.start(bin_dir)
    yield server
    server.stop()


@pytest.fixture(params=("sqlite", "postgresql"))
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'stores.sqlite3'}"
    server: TempPostgres = request.getfixturevalue("postgres_server")
    return server.create_database()


@pytest.fixture
def open_engine(store_url: str) -> Iterator[Callable[[], sa.Engine]]:
    """Engines on the test's database, as separate processes (restarts, replicas) would each open their own."""
    engines: list[sa.Engine] = []

    def opened() -> sa.Engine:
        engines.append(create_engine(store_url))
        return engines[-1]

    yield opened
    for engine in engines:
        engine.dispose()


@pytest.fixture
def store_engine(open_engine: Callable[[], sa.Engine]) -> sa.Engine:
    return open_engine()
