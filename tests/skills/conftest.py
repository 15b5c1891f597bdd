"""Fixtures for the skills service tests: topics on the session broker, databases, a running service per module.

Tests that take `skills` run once per database backend: SQLite always, PostgreSQL when Debian's `postgresql`
package is installed (a throwaway server on a free port), otherwise that variant is skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contactrouting.topics import ensure_topics

from .postgres import SKIP_REASON, TempPostgres, pg_bin_dir
from .service import RunningSkills, skills_process

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def profiles_topic(kafka_bootstrap: str) -> str:
    ensure_topics(kafka_bootstrap, partitions=3, replication_factor=1)
    return kafka_bootstrap


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[TempPostgres]:
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        pytest.skip(SKIP_REASON)
    server = TempPostgres.start(bin_dir)
    yield server
    server.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """'' is the service's default (SQLite under DATA_DIR); otherwise a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return ""
    server: TempPostgres = request.getfixturevalue("postgres_server")
    return server.create_database()


@pytest.fixture(scope="module")
def skills(profiles_topic: str, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSkills]:
    service = skills_process(tmp_path_factory.mktemp("skills"), profiles_topic, DATABASE_URL=database_url)
    service.start()
    yield service
    service.stop()
