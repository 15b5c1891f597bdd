"""SkillsAdmin through real gRPC calls against the service process, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from contactrouting.v1 import agent_pb2, contact_pb2, skills_pb2
from services.skills.adapters.proto_mapping import agent_to_proto

from ..invalid_agents import INVALID_AGENTS, valid_agent
from ..postgres import SKIP_REASON, TempPostgres, pg_bin_dir
from ..service import READ_TOKEN, RunningSkills, admin, read_profiles, skills_process

pytestmark = pytest.mark.integration
Stub = Any


@pytest.fixture(scope="module")
def stub(skills: RunningSkills) -> Stub:
    stub = skills.stub()
    for name in ("general", "billing", "vip"):
        stub.CreateSkill(skills_pb2.CreateSkillRequest(skill=skills_pb2.Skill(name=name)), metadata=admin())
    for name in ("general", "billing"):
        stub.CreateQueue(skills_pb2.CreateQueueRequest(queue=skills_pb2.Queue(name=name)), metadata=admin())
    return stub


def unique(prefix: str = "agent") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def rpc_error(call: Callable[[], Any]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value


def create(stub: Stub, agent: agent_pb2.AgentProfile) -> agent_pb2.AgentProfile:
    return stub.CreateAgent(skills_pb2.CreateAgentRequest(agent=agent), metadata=admin())


def profile(agent_id: str, **changes: Any) -> agent_pb2.AgentProfile:
    message = agent_to_proto(valid_agent(agent_id))
    for name, value in changes.items():
        if isinstance(value, list):
            message.ClearField(name)  # type: ignore[arg-type]
            getattr(message, name).extend(value)
        else:
            setattr(message, name, value)
    return message


# --- CRUD --------------------------------------------------------------------------------------------------------
def test_an_agent_round_trips_through_create_get_update_and_delete(stub: Stub) -> None:
    agent_id = unique()
    created = create(stub, profile(agent_id))
    assert created.version == 1
    assert created == profile(agent_id, version=1)
    assert stub.GetAgent(skills_pb2.GetAgentRequest(agent_id=agent_id), metadata=admin()) == created

    wanted = profile(agent_id, display_name="Ana H.", version=1, queues=["billing"], active=False)
    updated = stub.UpdateAgent(skills_pb2.UpdateAgentRequest(agent=wanted), metadata=admin())
    assert updated.version == 2
    assert (updated.display_name, list(updated.queues), updated.active) == ("Ana H.", ["billing"], False)

    stub.DeleteAgent(skills_pb2.DeleteAgentRequest(agent_id=agent_id), metadata=admin())
    missing = rpc_error(lambda: stub.GetAgent(skills_pb2.GetAgentRequest(agent_id=agent_id), metadata=admin()))
    assert missing.code() is grpc.StatusCode.NOT_FOUND


def test_creating_an_existing_agent_is_already_exists(stub: Stub) -> None:
    agent_id = unique()
    create(stub, profile(agent_id))
    assert rpc_error(lambda: create(stub, profile(agent_id))).code() is grpc.StatusCode.ALREADY_EXISTS


def test_updating_or_deleting_a_missing_agent_is_not_found(stub: Stub) -> None:
    request = skills_pb2.UpdateAgentRequest(agent=profile(unique(), version=1))
    assert rpc_error(lambda: stub.UpdateAgent(request, metadata=admin())).code() is grpc.StatusCode.NOT_FOUND
    delete = skills_pb2.DeleteAgentRequest(agent_id=unique())
    assert rpc_error(lambda: stub.DeleteAgent(delete, metadata=admin())).code() is grpc.StatusCode.NOT_FOUND


# --- optimistic concurrency --------------------------------------------------------------------------------------
def test_a_stale_agent_update_is_aborted_and_changes_nothing(stub: Stub) -> None:
    agent_id = unique()
    create(stub, profile(agent_id))
    first = stub.UpdateAgent(
        skills_pb2.UpdateAgentRequest(agent=profile(agent_id, display_name="First", version=1)), metadata=admin()
    )
    stale = skills_pb2.UpdateAgentRequest(agent=profile(agent_id, display_name="Second", version=1))
    error = rpc_error(lambda: stub.UpdateAgent(stale, metadata=admin()))
    assert error.code() is grpc.StatusCode.ABORTED
    assert "version 2, not 1" in error.details()
    assert stub.GetAgent(skills_pb2.GetAgentRequest(agent_id=agent_id), metadata=admin()) == first


def test_a_delete_with_a_stale_expected_version_is_aborted(stub: Stub) -> None:
    agent_id = unique()
    create(stub, profile(agent_id))
    stub.UpdateAgent(skills_pb2.UpdateAgentRequest(agent=profile(agent_id, version=1)), metadata=admin())
    stale = skills_pb2.DeleteAgentRequest(agent_id=agent_id, expected_version=1)
    assert rpc_error(lambda: stub.DeleteAgent(stale, metadata=admin())).code() is grpc.StatusCode.ABORTED
    stub.DeleteAgent(skills_pb2.DeleteAgentRequest(agent_id=agent_id, expected_version=2), metadata=admin())


@pytest.mark.parametrize("kind", ["Skill", "Queue"])
def test_stale_catalog_updates_are_aborted(stub: Stub, kind: str) -> None:
    name = unique(kind.lower()).replace("-", "_")
    message = getattr(skills_pb2, kind)
    key = kind.lower()

    def call(verb: str, **fields: Any) -> Any:
        request = getattr(skills_pb2, f"{verb}{kind}Request")(**{key: message(name=name, **fields)})
        return getattr(stub, f"{verb}{kind}")(request, metadata=admin())

    assert call("Create", description="one").version == 1
    assert call("Update", description="two", version=1).version == 2
    error = rpc_error(lambda: call("Update", description="three", version=1))
    assert error.code() is grpc.StatusCode.ABORTED
    get = getattr(skills_pb2, f"Get{kind}Request")(name=name)
    assert getattr(stub, f"Get{kind}")(get, metadata=admin()) == message(name=name, description="two", version=2)


# --- validation --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("agent", "field"), [(a, f) for _, a, f in INVALID_AGENTS], ids=[c for c, _, _ in INVALID_AGENTS]
)
def test_each_invalid_agent_is_invalid_argument_naming_the_field(stub: Stub, agent: Any, field: str) -> None:
    message = agent_to_proto(agent)
    error = rpc_error(lambda: create(stub, message))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(f"{field}: ")
    assert dict(error.trailing_metadata())["invalid-field"] == field


def test_an_unspecified_channel_is_invalid_argument(stub: Stub) -> None:
    message = profile(unique())
    message.capacity.append(agent_pb2.ChannelCapacity(channel=contact_pb2.CHANNEL_UNSPECIFIED, max_concurrent=1))
    error = rpc_error(lambda: create(stub, message))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("agent.capacity[2].channel: ")


def test_a_version_on_create_is_invalid_argument(stub: Stub) -> None:
    error = rpc_error(lambda: create(stub, profile(unique(), version=3)))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("agent.version: ")


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (skills_pb2.ListAgentsRequest(skill="billing", min_proficiency=7), "min_proficiency"),
        (skills_pb2.ListAgentsRequest(min_proficiency=2), "min_proficiency"),
        (skills_pb2.ListAgentsRequest(language="hrvatski!"), "language"),
        (skills_pb2.ListAgentsRequest(skill="Not A Skill"), "skill"),
        (skills_pb2.ListAgentsRequest(page_size=5000), "page_size"),
        (skills_pb2.ListAgentsRequest(page_token="not-a-token"), "page_token"),
        (skills_pb2.ListAgentsRequest(page_token="c2tpbGxzOmdlbmVyYWw="), "page_token"),  # a skills token
    ],
)
def test_bad_list_requests_are_invalid_argument(stub: Stub, request_: Any, field: str) -> None:
    error = rpc_error(lambda: stub.ListAgents(request_, metadata=admin()))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("method", "request_", "field"),
    [
        ("CreateSkill", skills_pb2.CreateSkillRequest(skill=skills_pb2.Skill(name="Bad Name")), "skill.name"),
        ("CreateSkill", skills_pb2.CreateSkillRequest(skill=skills_pb2.Skill(name="ok", version=2)), "skill.version"),
        ("CreateQueue", skills_pb2.CreateQueueRequest(queue=skills_pb2.Queue(name="")), "queue.name"),
        (
            "UpdateQueue",
            skills_pb2.UpdateQueueRequest(queue=skills_pb2.Queue(name="general", description="x" * 501, version=1)),
            "queue.description",
        ),
        ("ListSkills", skills_pb2.ListSkillsRequest(page_size=-1), "page_size"),
        ("DeleteAgent", skills_pb2.DeleteAgentRequest(agent_id="x", expected_version=-1), "expected_version"),
    ],
)
def test_bad_catalog_requests_are_invalid_argument(stub: Stub, method: str, request_: Any, field: str) -> None:
    error = rpc_error(lambda: getattr(stub, method)(request_, metadata=admin()))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(f"{field}: ")


# --- catalog references ------------------------------------------------------------------------------------------
def test_a_skill_or_queue_in_use_cannot_be_deleted_until_its_agents_let_go(stub: Stub) -> None:
    skill, queue = unique("skill").replace("-", "_"), unique("queue").replace("-", "_")
    stub.CreateSkill(skills_pb2.CreateSkillRequest(skill=skills_pb2.Skill(name=skill)), metadata=admin())
    stub.CreateQueue(skills_pb2.CreateQueueRequest(queue=skills_pb2.Queue(name=queue)), metadata=admin())
    agent_id = unique()
    create(stub, profile(agent_id, skills=[agent_pb2.SkillLevel(skill=skill, proficiency=2)], queues=[queue]))

    in_use = rpc_error(lambda: stub.DeleteSkill(skills_pb2.DeleteSkillRequest(name=skill), metadata=admin()))
    assert in_use.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "used by 1 agent" in in_use.details()
    queue_in_use = rpc_error(lambda: stub.DeleteQueue(skills_pb2.DeleteQueueRequest(name=queue), metadata=admin()))
    assert queue_in_use.code() is grpc.StatusCode.FAILED_PRECONDITION

    stub.DeleteAgent(skills_pb2.DeleteAgentRequest(agent_id=agent_id), metadata=admin())
    stub.DeleteSkill(skills_pb2.DeleteSkillRequest(name=skill), metadata=admin())
    stub.DeleteQueue(skills_pb2.DeleteQueueRequest(name=queue), metadata=admin())
    gone = rpc_error(lambda: stub.GetSkill(skills_pb2.GetSkillRequest(name=skill), metadata=admin()))
    assert gone.code() is grpc.StatusCode.NOT_FOUND


# --- pagination and filters --------------------------------------------------------------------------------------
def _tagged_skill(stub: Stub) -> str:
    """A skill of this test's own, so filters on it see only this test's agents."""
    name = unique("tag").replace("-", "_")
    stub.CreateSkill(skills_pb2.CreateSkillRequest(skill=skills_pb2.Skill(name=name)), metadata=admin())
    return name


def test_pages_cover_every_match_once_in_id_order(stub: Stub) -> None:
    tag = _tagged_skill(stub)
    ids = sorted(unique() for _ in range(25))
    for agent_id in ids:
        create(stub, profile(agent_id, skills=[agent_pb2.SkillLevel(skill=tag, proficiency=3)]))
    seen: list[str] = []
    request = skills_pb2.ListAgentsRequest(skill=tag, page_size=10)
    pages = 0
    while True:
        response = stub.ListAgents(request, metadata=admin())
        pages += 1
        seen += [a.agent_id for a in response.agents]
        if not response.next_page_token:
            break
        request.page_token = response.next_page_token
    assert seen == ids
    assert pages == 3


def test_filters_combine_skill_level_language_queue_and_active(stub: Stub) -> None:
    tag = _tagged_skill(stub)

    def agent(level: int, languages: list[str], queues: list[str], active: bool = True) -> str:
        agent_id = unique()
        create(
            stub,
            profile(
                agent_id,
                skills=[agent_pb2.SkillLevel(skill=tag, proficiency=level)],
                languages=[agent_pb2.LanguageLevel(language=lang, level=3) for lang in languages],
                queues=queues,
                active=active,
            ),
        )
        return agent_id

    strong_hr = agent(4, ["hr", "en"], ["general"])
    exact_hr = agent(3, ["hr"], ["billing"])
    weak_hr = agent(2, ["hr"], ["general"])
    strong_en = agent(5, ["en-GB"], ["general"])
    inactive_hr = agent(5, ["hr"], ["general"], active=False)

    def listed(**filters: Any) -> set[str]:
        response = stub.ListAgents(skills_pb2.ListAgentsRequest(skill=tag, **filters), metadata=admin())
        return {a.agent_id for a in response.agents}

    assert listed(min_proficiency=3, language="hr") == {strong_hr, exact_hr, inactive_hr}
    assert listed(min_proficiency=3, language="HR", active_only=True) == {strong_hr, exact_hr}
    assert listed(language="en") == {strong_hr, strong_en}
    assert listed(min_proficiency=4, queue="general") == {strong_hr, strong_en, inactive_hr}
    assert listed(min_proficiency=2) == {strong_hr, exact_hr, weak_hr, strong_en, inactive_hr}
    assert listed(language="sk") == set()


def test_catalog_lists_page_by_name(stub: Stub) -> None:
    names = sorted(unique("page").replace("-", "_") for _ in range(3))
    for name in names:
        stub.CreateQueue(skills_pb2.CreateQueueRequest(queue=skills_pb2.Queue(name=name)), metadata=admin())
    listed: list[str] = []
    request = skills_pb2.ListQueuesRequest(page_size=2)
    while True:
        response = stub.ListQueues(request, metadata=admin())
        listed += [q.name for q in response.queues]
        if not response.next_page_token:
            break
        request.page_token = response.next_page_token
    assert [name for name in listed if name in names] == names
    assert listed == sorted(listed)


# --- auth, health, reflection ------------------------------------------------------------------------------------
def test_calls_without_a_known_token_are_unauthenticated(stub: Stub) -> None:
    request = skills_pb2.ListSkillsRequest()
    assert rpc_error(lambda: stub.ListSkills(request)).code() is grpc.StatusCode.UNAUTHENTICATED
    wrong = admin("not-the-token")
    assert rpc_error(lambda: stub.ListSkills(request, metadata=wrong)).code() is grpc.StatusCode.UNAUTHENTICATED


def test_the_read_token_reads_but_cannot_change_anything(stub: Stub) -> None:
    reader = admin(READ_TOKEN)
    assert stub.ListSkills(skills_pb2.ListSkillsRequest(), metadata=reader).skills
    for call in (
        lambda: stub.CreateAgent(skills_pb2.CreateAgentRequest(agent=profile(unique())), metadata=reader),
        lambda: stub.DeleteSkill(skills_pb2.DeleteSkillRequest(name="general"), metadata=reader),
        lambda: stub.Republish(skills_pb2.RepublishRequest(), metadata=reader),
    ):
        assert rpc_error(call).code() is grpc.StatusCode.PERMISSION_DENIED


def test_health_reports_serving_and_reflection_lists_the_service(skills: RunningSkills) -> None:
    with grpc.insecure_channel(skills.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        status = health.Check(health_pb2.HealthCheckRequest(service="contactrouting.v1.SkillsAdmin")).status
        assert status == health_pb2.HealthCheckResponse.SERVING
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        responses = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
        services = {s.name for s in next(iter(responses)).list_services_response.service}
        assert "contactrouting.v1.SkillsAdmin" in services


# --- republish ---------------------------------------------------------------------------------------------------
def test_republish_emits_every_agent_again(stub: Stub, skills: RunningSkills, profiles_topic: str) -> None:
    agent_ids = {unique() for _ in range(3)}
    for agent_id in agent_ids:
        create(stub, profile(agent_id))
    total = stub.ListAgents(skills_pb2.ListAgentsRequest(page_size=1000), metadata=admin())
    published = stub.Republish(skills_pb2.RepublishRequest(), metadata=admin()).published
    assert published == len(total.agents)
    records = read_profiles(profiles_topic, agent_ids, lambda rs: len(rs) >= 2 * len(agent_ids))
    for agent_id in agent_ids:
        assert [r.message.version for r in records if r.key == agent_id] == [1, 1]  # type: ignore[union-attr]


# --- the database goes away ----------------------------------------------------------------------------------------
def test_a_database_outage_is_unavailable_and_the_service_recovers(profiles_topic: str, tmp_path: Path) -> None:
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        pytest.skip(SKIP_REASON)
    server = TempPostgres.start(bin_dir)
    service = skills_process(tmp_path, profiles_topic, DATABASE_URL=server.create_database())
    try:
        service.start()
        stub = service.stub()
        request = skills_pb2.CreateSkillRequest(skill=skills_pb2.Skill(name="general"))
        stub.CreateSkill(request, metadata=admin())
        server.pause()
        error = rpc_error(lambda: stub.ListSkills(skills_pb2.ListSkillsRequest(), metadata=admin()))
        assert error.code() is grpc.StatusCode.UNAVAILABLE
        assert error.details() == "database unavailable, retry later"
        server.resume()
        assert [s.name for s in stub.ListSkills(skills_pb2.ListSkillsRequest(), metadata=admin()).skills] == ["general"]
    finally:
        service.stop()
        server.stop()
