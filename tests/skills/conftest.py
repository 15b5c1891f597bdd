"""Fixtures for the skills service tests: topics on the session broker and a running service per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contactrouting.topics import ensure_topics

from .service import RunningSkills, skills_process


@pytest.fixture(scope="session")
def profiles_topic(kafka_bootstrap: str) -> str:
    ensure_topics(kafka_bootstrap, partitions=3, replication_factor=1)
    return kafka_bootstrap


@pytest.fixture(scope="module")
def skills(profiles_topic: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSkills]:
    service = skills_process(tmp_path_factory.mktemp("skills"), profiles_topic)
    service.start()
    yield service
    service.stop()
