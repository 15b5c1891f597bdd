"""The outbox end to end: changes made through real gRPC reach `agents.profiles` on a real broker, in order."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from support.prometheus import labels, samples, scrape

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ProtoProducer
from contactrouting.topics import ensure_topics
from contactrouting.v1 import agent_pb2, contact_pb2, skills_pb2
from devstack.broker import EmbeddedBroker
from devstack.ports import free_port
from services.skills.adapters.agent_store import AgentStore
from services.skills.adapters.catalog_store import queue_store, skill_store
from services.skills.adapters.database import create_engine
from services.skills.adapters.migrations import migrate
from services.skills.adapters.outbox_relay import OutboxRelay, OutboxStore, PublishFailed, RelayTuning
from services.skills.domain.model import Queue, Skill

from ..invalid_agents import valid_agent
from ..postgres import TempPostgres
from ..service import RunningSkills, admin, read_profiles, skills_process, versions_by_agent

pytestmark = pytest.mark.integration


def _catalog(skills: RunningSkills) -> None:
    stub = skills.stub()
    for name in ("general", "billing"):
        existing = {s.name for s in stub.ListSkills(skills_pb2.ListSkillsRequest(), metadata=admin()).skills}
        if name not in existing:
            stub.CreateSkill(skills_pb2.CreateSkillRequest(skill=skills_pb2.Skill(name=name)), metadata=admin())
    existing = {q.name for q in stub.ListQueues(skills_pb2.ListQueuesRequest(), metadata=admin()).queues}
    if "general" not in existing:
        stub.CreateQueue(skills_pb2.CreateQueueRequest(queue=skills_pb2.Queue(name="general")), metadata=admin())


def _profile(agent_id: str, proficiency: int = 3) -> agent_pb2.AgentProfile:
    return agent_pb2.AgentProfile(
        agent_id=agent_id,
        display_name="Test Agent",
        skills=[agent_pb2.SkillLevel(skill="general", proficiency=proficiency)],
        languages=[agent_pb2.LanguageLevel(language="hr", level=5)],
        capacity=[agent_pb2.ChannelCapacity(channel=contact_pb2.CHANNEL_EMAIL, max_concurrent=5)],
        queues=["general"],
        active=True,
    )


def test_a_created_agent_is_published_keyed_by_its_id(skills: RunningSkills, profiles_topic: str) -> None:
    _catalog(skills)
    agent_id = f"agent-{uuid.uuid4().hex[:8]}"
    created = skills.stub().CreateAgent(skills_pb2.CreateAgentRequest(agent=_profile(agent_id)), metadata=admin())
    assert created.version == 1

    records = read_profiles(profiles_topic, {agent_id}, lambda rs: len(rs) >= 1)
    assert len(records) == 1
    assert records[0].message == created


def test_updates_and_the_delete_tombstone_arrive_in_order(skills: RunningSkills, profiles_topic: str) -> None:
    _catalog(skills)
    stub = skills.stub()
    agent_id = f"agent-{uuid.uuid4().hex[:8]}"
    current = stub.CreateAgent(skills_pb2.CreateAgentRequest(agent=_profile(agent_id)), metadata=admin())
    for proficiency in (4, 5, 2):
        wanted = _profile(agent_id, proficiency)
        wanted.version = current.version
        current = stub.UpdateAgent(skills_pb2.UpdateAgentRequest(agent=wanted), metadata=admin())
    stub.DeleteAgent(skills_pb2.DeleteAgentRequest(agent_id=agent_id, expected_version=4), metadata=admin())

    records = read_profiles(profiles_topic, {agent_id}, lambda rs: len(rs) >= 5)
    assert versions_by_agent(records) == {agent_id: [1, 2, 3, 4, 0]}
    assert records[-1].message is None and records[-1].raw is None
    profiles = [r.message for r in records[:4] if isinstance(r.message, agent_pb2.AgentProfile)]
    assert [p.skills[0].proficiency for p in profiles] == [3, 4, 5, 2]


# --- the broker goes away ----------------------------------------------------------------------------------------
@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker of this test's own, so stopping it disturbs nobody else's tests."""
    broker = EmbeddedBroker(port=free_port(), log_path=tmp_path / "tansu.log")
    broker.start()
    ensure_topics(broker.bootstrap_servers, partitions=3, replication_factor=1)
    yield broker
    broker.stop()


def _outage_env(database_url: str) -> dict[str, str]:
    """Short Kafka timeouts, so a test outage of a few seconds runs through the relay's whole retry cycle."""
    return {
        "DATABASE_URL": database_url,
        "KAFKA_REQUEST_TIMEOUT_MS": "2000",
        "OUTBOX_PUBLISH_TIMEOUT_MS": "1000",
        "OUTBOX_DELIVERY_TIMEOUT_MS": "4000",
    }


def _restart_empty(broker: EmbeddedBroker) -> None:
    """Tansu keeps nothing across a restart: the new broker on the same port needs its topics again."""
    broker.start()
    ensure_topics(broker.bootstrap_servers, partitions=3, replication_factor=1)


def _changes_while_down(skills: RunningSkills, run: str) -> dict[str, list[int]]:
    """Creates, updates and a delete; returns each agent's expected versions in order (0 = tombstone)."""
    stub = skills.stub()
    first, second, third = (f"{run}-{n}" for n in ("a", "b", "c"))
    current = stub.CreateAgent(skills_pb2.CreateAgentRequest(agent=_profile(first)), metadata=admin())
    stub.CreateAgent(skills_pb2.CreateAgentRequest(agent=_profile(second)), metadata=admin())
    stub.CreateAgent(skills_pb2.CreateAgentRequest(agent=_profile(third)), metadata=admin())
    for proficiency in (4, 5):
        wanted = _profile(first, proficiency)
        wanted.version = current.version
        current = stub.UpdateAgent(skills_pb2.UpdateAgentRequest(agent=wanted), metadata=admin())
    stub.DeleteAgent(skills_pb2.DeleteAgentRequest(agent_id=third), metadata=admin())
    return {first: [1, 2, 3], second: [1], third: [1, 0]}


@pytest.fixture
def own_database_url(database_url: str, request: pytest.FixtureRequest) -> str:
    """A database no other service process uses: another relay on it would publish our records elsewhere."""
    if not database_url:
        return ""  # SQLite: the file lives in the test's own DATA_DIR
    server: TempPostgres = request.getfixturevalue("postgres_server")
    return server.create_database()


def test_changes_made_while_the_broker_is_down_arrive_in_order_when_it_returns(
    own_broker: EmbeddedBroker, own_database_url: str, tmp_path: Path
) -> None:
    skills = skills_process(tmp_path, own_broker.bootstrap_servers, **_outage_env(own_database_url))
    skills.start()
    try:
        _catalog(skills)
        before = f"up-{uuid.uuid4().hex[:8]}"
        skills.stub().CreateAgent(skills_pb2.CreateAgentRequest(agent=_profile(before)), metadata=admin())
        assert read_profiles(own_broker.bootstrap_servers, {before}, lambda rs: len(rs) >= 1)

        own_broker.stop()
        expected = _changes_while_down(skills, f"down-{uuid.uuid4().hex[:8]}")
        time.sleep(1.5)  # let the relay fail against the missing broker at least once
        _restart_empty(own_broker)

        records = read_profiles(
            own_broker.bootstrap_servers,
            set(expected),
            lambda rs: versions_by_agent(rs) == expected,
            timeout_s=30,
        )
        assert versions_by_agent(records) == expected
        assert "outbox_publish_failed" in skills.log()
    finally:
        skills.stop()


def test_the_scrape_shows_the_outbox_backlog_during_an_outage_and_every_acknowledged_record(
    own_broker: EmbeddedBroker, own_database_url: str, tmp_path: Path
) -> None:
    metrics_port = free_port()
    env = _outage_env(own_database_url)
    skills = skills_process(tmp_path, own_broker.bootstrap_servers, METRICS_PORT=str(metrics_port), **env)
    topic = labels(topic="agents.profiles")
    skills.start()
    try:
        _catalog(skills)
        before = f"up-{uuid.uuid4().hex[:8]}"
        skills.stub().CreateAgent(skills_pb2.CreateAgentRequest(agent=_profile(before)), metadata=admin())
        assert read_profiles(own_broker.bootstrap_servers, {before}, lambda rs: len(rs) >= 1)
        text = _scrape_until(metrics_port, lambda t: samples(t, "outbox_published_total") == {topic: 1.0})
        assert samples(text, "outbox_pending") == {topic: 0.0}

        own_broker.stop()
        expected = _changes_while_down(skills, f"down-{uuid.uuid4().hex[:8]}")
        time.sleep(1.5)  # let the relay fail against the missing broker at least once
        text = scrape(metrics_port)
        assert samples(text, "outbox_pending") == {topic: 6.0}
        assert samples(text, "outbox_published_total") == {topic: 1.0}

        _restart_empty(own_broker)
        text = _scrape_until(metrics_port, lambda t: samples(t, "outbox_pending") == {topic: 0.0}, timeout_s=30)
        assert samples(text, "outbox_published_total") == {topic: 1.0 + sum(map(len, expected.values()))}
        (target,) = samples(text, "target_info")
        assert ("service_name", "skills") in target
    finally:
        assert skills.stop() == 0, skills.log()


def _scrape_until(port: int, done: Callable[[str], bool], timeout_s: float = 10.0) -> str:
    deadline = time.monotonic() + timeout_s
    while not done(text := scrape(port)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return text


def test_a_relay_killed_mid_publish_loses_nothing(
    own_broker: EmbeddedBroker, own_database_url: str, tmp_path: Path
) -> None:
    """SIGKILL while the relay has handed records to the producer but has no ack: a restart publishes them all."""
    skills = skills_process(tmp_path, own_broker.bootstrap_servers, **_outage_env(own_database_url))
    skills.start()
    try:
        _catalog(skills)
        own_broker.stop()
        expected = _changes_while_down(skills, f"kill-{uuid.uuid4().hex[:8]}")
        time.sleep(0.5)  # the relay is now waiting for acks that cannot come
        skills.kill()
        _restart_empty(own_broker)
        skills.start()

        records = read_profiles(
            own_broker.bootstrap_servers,
            set(expected),
            lambda rs: versions_by_agent(rs) == expected,
            timeout_s=30,
        )
        assert versions_by_agent(records) == expected
    finally:
        skills.stop()


# --- a crash between the broker's ack and marking the records sent ------------------------------------------------
class CrashBeforeMarking(OutboxStore):
    def mark_sent(self, ids: object) -> None:
        raise RuntimeError("process died before marking the outbox records sent")


def test_a_crash_after_the_ack_but_before_marking_replays_the_batch_in_order(
    profiles_topic: str, tmp_path: Path
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'skills.db'}")
    migrate(engine)
    skill_store(engine).create(Skill("general"))
    skill_store(engine).create(Skill("billing"))
    queue_store(engine).create(Queue("general"))
    queue_store(engine).create(Queue("billing"))
    agents = AgentStore(engine)
    run = uuid.uuid4().hex[:8]
    ids = [f"crash-{run}-{n}" for n in range(3)]
    for agent_id in ids:
        created = agents.create(valid_agent(agent_id))
        agents.update(created)
    settings = ServiceSettings(kafka_bootstrap_servers=profiles_topic)

    def producer() -> ProtoProducer:
        return ProtoProducer(settings, client_id="crash-test")

    crashing = OutboxRelay(CrashBeforeMarking(engine), producer, RelayTuning(batch_size=100))
    with pytest.raises(RuntimeError, match="before marking"):
        crashing.relay_once()
    crashing.stop()

    survivor = OutboxRelay(OutboxStore(engine), producer, RelayTuning(batch_size=100))
    assert survivor.relay_once() == 6
    assert OutboxStore(engine).pending() == 0
    survivor.stop()

    records = read_profiles(profiles_topic, set(ids), lambda rs: len(rs) >= 12)
    # Every change twice, each run in order, the last record the latest version: nothing lost, nothing reordered.
    assert versions_by_agent(records) == {agent_id: [1, 2, 1, 2] for agent_id in ids}


def test_a_failed_publish_marks_nothing_and_the_next_round_sends_everything(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'skills.db'}")
    migrate(engine)
    skill_store(engine).create(Skill("general"))
    skill_store(engine).create(Skill("billing"))
    queue_store(engine).create(Queue("general"))
    queue_store(engine).create(Queue("billing"))
    AgentStore(engine).create(valid_agent(f"nobroker-{uuid.uuid4().hex[:8]}"))
    settings = ServiceSettings(kafka_bootstrap_servers=f"127.0.0.1:{free_port()}")

    def producer() -> ProtoProducer:
        return ProtoProducer(settings, client_id="no-broker", bootstrap_timeout_ms=500, max_block_ms=500)

    relay = OutboxRelay(OutboxStore(engine), producer, RelayTuning(publish_timeout_s=0.5))
    with pytest.raises(PublishFailed):
        relay.relay_once()
    assert OutboxStore(engine).pending() == 1
    with engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL")) == 0


def test_sigterm_while_the_broker_is_down_stops_promptly_and_cleanly(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    skills = skills_process(tmp_path, own_broker.bootstrap_servers, **_outage_env(""))
    skills.start()
    _catalog(skills)
    own_broker.stop()
    skills.stub().CreateAgent(
        skills_pb2.CreateAgentRequest(agent=_profile(f"term-{uuid.uuid4().hex[:8]}")), metadata=admin()
    )
    time.sleep(0.5)
    started = time.monotonic()
    assert skills.stop() == 0
    assert time.monotonic() - started < 8.0
    assert "service_stopping" in skills.log()


def test_the_publish_joins_the_trace_of_the_request_that_made_the_change(skills: RunningSkills) -> None:
    _catalog(skills)
    skills.stub().CreateAgent(
        skills_pb2.CreateAgentRequest(agent=_profile(f"trace-{uuid.uuid4().hex[:8]}")), metadata=admin()
    )
    path = Path(skills.process.env["TRACE_DIR"]) / "skills.jsonl"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        spans = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        servers = {s["trace_id"] for s in spans if s["kind"] == "SERVER" and s["name"].endswith("/CreateAgent")}
        joined = [s for s in spans if s["kind"] == "PRODUCER" and s["trace_id"] in servers]
        if joined:
            assert joined[0]["name"] == "agents.profiles publish"
            return
        time.sleep(0.2)
    raise AssertionError("no agents.profiles publish span in the trace of a CreateAgent call")


def test_sent_records_are_pruned_after_the_retention_and_unsent_ones_never(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'skills.db'}")
    migrate(engine)
    for name in ("general", "billing"):
        skill_store(engine).create(Skill(name))
        queue_store(engine).create(Queue(name))
    agents = AgentStore(engine)
    first = agents.create(valid_agent("prune-1"))
    store = OutboxStore(engine)
    store.mark_sent([record.id for record in store.unsent(10)])
    agents.update(first)

    assert store.prune_sent_before(datetime.now(UTC) - timedelta(hours=1)) == 0
    assert store.prune_sent_before(datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert [r.agent_id for r in store.unsent(10)] == ["prune-1"]
    assert store.pending() == 1
