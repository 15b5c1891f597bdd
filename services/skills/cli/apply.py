"""`apply`: make the service hold what a document declares: create what is missing, update what differs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import grpc

from contactrouting.v1 import agent_pb2, skills_pb2
from services.skills.cli.client import SkillsClient
from services.skills.cli.documents import AgentSpec, CatalogSpec, Document
from services.skills.domain.validation import normalize_language

# Calls in flight at once: enough to hide round trips, few enough not to queue up behind the database's writer.
PARALLEL_CALLS = 8


@dataclass(frozen=True)
class Outcome:
    kind: str
    name: str
    # created | configured | unchanged | failed
    action: str
    error: str = ""


@dataclass
class ApplyReport:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.action == "failed"]

    def counts(self, kind: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            if outcome.kind == kind:
                counts[outcome.action] = counts.get(outcome.action, 0) + 1
        return counts


def apply_document(client: SkillsClient, document: Document) -> ApplyReport:
    """Skills first, then queues, then agents, so every reference an agent makes already exists."""
    report = ApplyReport()
    report.outcomes += _apply_catalog(client, "skill", document.skills)
    report.outcomes += _apply_catalog(client, "queue", document.queues)
    report.outcomes += _apply_agents(client, document.agents)
    return report


def _apply_catalog(client: SkillsClient, kind: str, specs: list[CatalogSpec]) -> list[Outcome]:
    if not specs:
        return []
    existing = {entry.name: entry for entry in (client.skills() if kind == "skill" else client.queues())}
    message = skills_pb2.Skill if kind == "skill" else skills_pb2.Queue
    title = kind.title()

    def apply_one(spec: CatalogSpec) -> Outcome:
        current = existing.get(spec.name)
        entry = message(name=spec.name, description=spec.description)
        if current is None:
            request = getattr(skills_pb2, f"Create{title}Request")(**{kind: entry})
            return _call(client, kind, spec.name, "created", f"Create{title}", request)
        if current.description == spec.description:
            return Outcome(kind, spec.name, "unchanged")
        entry.version = current.version
        request = getattr(skills_pb2, f"Update{title}Request")(**{kind: entry})
        return _call(client, kind, spec.name, "configured", f"Update{title}", request)

    return _run_all(apply_one, specs)


def _apply_agents(client: SkillsClient, specs: list[AgentSpec]) -> list[Outcome]:
    if not specs:
        return []
    # One paged listing instead of a Get per agent: a 1,000-agent file costs one round trip to read the state.
    existing = {agent.agent_id: agent for agent in client.agents()}

    def apply_one(spec: AgentSpec) -> Outcome:
        wanted = spec.to_proto()
        current = existing.get(spec.id)
        if current is None:
            return _call(
                client, "agent", spec.id, "created", "CreateAgent", skills_pb2.CreateAgentRequest(agent=wanted)
            )
        wanted.version = current.version
        if _same_agent(current, wanted):
            return Outcome("agent", spec.id, "unchanged")
        return _call(client, "agent", spec.id, "configured", "UpdateAgent", skills_pb2.UpdateAgentRequest(agent=wanted))

    return _run_all(apply_one, specs)


def _same_agent(current: agent_pb2.AgentProfile, wanted: agent_pb2.AgentProfile) -> bool:
    """Equal as stored: the service normalizes language tags, so compare after the same normalization."""
    normalized = agent_pb2.AgentProfile()
    normalized.CopyFrom(wanted)
    for language in normalized.languages:
        language.language = normalize_language(language.language)
    return current == normalized


def _call(client: SkillsClient, kind: str, name: str, action: str, method: str, request: Any) -> Outcome:
    try:
        client.call(method, request)
    except grpc.RpcError as error:
        return Outcome(kind, name, "failed", f"{error.code().name}: {error.details()}")  # type: ignore[attr-defined]
    return Outcome(kind, name, action)


def _run_all(apply_one: Callable[[Any], Outcome], specs: Iterable[Any]) -> list[Outcome]:
    with ThreadPoolExecutor(max_workers=PARALLEL_CALLS) as pool:
        return list(pool.map(apply_one, specs))
