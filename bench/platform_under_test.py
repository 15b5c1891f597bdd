"""The platform as end_to_end runs it: devstack's processes on free ports, fresh topics, and N provisioned agents."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import grpc
import yaml
from kafka import KafkaAdminClient
from kafka.errors import UnknownTopicOrPartitionError

from bench.broker import OWNED_ENV
from bench.kafka_baseline import security
from contactrouting.topics import TOPICS
from contactrouting.v1 import agent_pb2, contact_pb2, skills_pb2, skills_pb2_grpc
from devstack.stack import REPO_ROOT, Progress, Stack, StackPorts

ADMIN_TOKEN = "demo-admin-token"  # the skills service's demo admin token (devstack runs it in demo mode)
SKILLS = ("general", "billing", "vip")
LANGUAGES = ("en", "hr", "sk", "de")


class BenchStack(Stack):
    """devstack's Stack, with one change: the social gateway's per-sender rate limit is lifted.

    The limit (200/s per platform and client address by default) protects the gateway from one flooding sender;
    the benchmark is one sender on 127.0.0.1 and would measure the limit instead of the gateway.
    """

    def __init__(self, var_dir: Path, kafka_bootstrap: str, agents: int, progress: Progress) -> None:
        config: dict[str, Any] = yaml.safe_load((REPO_ROOT / "config" / "social_gateway.yaml").read_text())
        config.setdefault("limits", {}).update(rate_per_s=1_000_000, rate_burst=1_000_000)
        self.meta_app_secret = str(config["meta"]["app_secret"])
        social_config = var_dir.resolve() / "social_gateway.bench.yaml"
        social_config.parent.mkdir(parents=True, exist_ok=True)
        social_config.write_text(yaml.safe_dump(config))
        super().__init__(
            var_dir,
            StackPorts.free(),
            kafka_bootstrap=kafka_bootstrap,
            progress=progress,
            extra_env=platform_env(agents),
            service_env_overrides={"social_gateway": {"SOCIAL_GATEWAY_CONFIG": str(social_config)}},
        )


def platform_env(agents: int) -> dict[str, str]:
    # Every agent's stream is one concurrent call on the router; room for them plus admin calls.
    env = {"ROUTER_MAX_AGENT_STREAMS": str(agents + 64)}
    if os.environ.get(OWNED_ENV) == "1":
        # The run's own tansu holds every fetch for the full max wait even with data ready (Kafka answers at once):
        # the same 20 ms devstack uses on it, or each Kafka hop costs ~250 ms here and not on a real cluster.
        env["KAFKA_FETCH_MAX_WAIT_MS"] = "20"
    return env


def recreate_topics(bootstrap: str) -> bool:
    """Deletes the pipeline's topics so earlier benchmarks' contacts do not wait in the router; only on a broker
    started for this run. Returns whether it did."""
    if os.environ.get(OWNED_ENV) != "1":
        return False
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-e2e-admin", **security())
    try:
        existing = set(admin.list_topics())
        doomed = [spec.name for spec in TOPICS if spec.name in existing]
        if doomed:
            with contextlib.suppress(UnknownTopicOrPartitionError):
                admin.delete_topics(doomed, timeout_ms=10_000)
    finally:
        admin.close()
    return True


def agent_profile(agent_id: str) -> agent_pb2.AgentProfile:
    """Every agent can take every bench contact: the benchmark measures routing throughput, not scarcity."""
    return agent_pb2.AgentProfile(
        agent_id=agent_id,
        display_name=f"Bench agent {agent_id[-5:]}",
        skills=[agent_pb2.SkillLevel(skill=skill, proficiency=4) for skill in SKILLS],
        languages=[agent_pb2.LanguageLevel(language=language, level=5) for language in LANGUAGES],
        capacity=[
            agent_pb2.ChannelCapacity(channel=contact_pb2.CHANNEL_EMAIL, max_concurrent=1),
            agent_pb2.ChannelCapacity(channel=contact_pb2.CHANNEL_MESSENGER, max_concurrent=1),
        ],
        queues=list(SKILLS),
        active=True,
    )


def provision_agents(skills_target: str, agent_ids: list[str]) -> None:
    """Creates the catalog entries and agents through the skills service's admin API, as an operator would."""
    metadata = (("authorization", f"Bearer {ADMIN_TOKEN}"),)
    with grpc.insecure_channel(skills_target) as channel:
        stub = skills_pb2_grpc.SkillsAdminStub(channel)
        for name in SKILLS:
            _tolerate_existing(
                lambda n=name: stub.CreateSkill(
                    skills_pb2.CreateSkillRequest(skill=skills_pb2.Skill(name=n)), metadata=metadata, timeout=10
                )
            )
            _tolerate_existing(
                lambda n=name: stub.CreateQueue(
                    skills_pb2.CreateQueueRequest(queue=skills_pb2.Queue(name=n)), metadata=metadata, timeout=10
                )
            )
        pending = [
            stub.CreateAgent.future(
                skills_pb2.CreateAgentRequest(agent=agent_profile(agent_id)), metadata=metadata, timeout=60
            )
            for agent_id in agent_ids
        ]
        for future in pending:
            _tolerate_existing(future.result)


def _tolerate_existing(call: Any) -> None:
    try:
        call()
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.ALREADY_EXISTS:
            raise
