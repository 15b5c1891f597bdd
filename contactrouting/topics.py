"""The Kafka topics of the platform: names are part of the contract, partitions are configurable."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import structlog
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

CONTACTS_INBOUND = "contacts.inbound"
CONTACTS_DEADLETTER = "contacts.deadletter"
ROUTING_EVENTS = "routing.events"
AGENTS_PROFILES = "agents.profiles"
CONTACTS_OUTBOUND = "contacts.outbound"
CONTACTS_FEEDBACK = "contacts.feedback"

log = structlog.get_logger()


@dataclass(frozen=True)
class TopicSpec:
    name: str
    config: dict[str, str] = field(default_factory=dict)


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(CONTACTS_INBOUND, {"retention.ms": str(7 * 24 * 3600 * 1000)}),
    TopicSpec(CONTACTS_DEADLETTER, {"retention.ms": str(30 * 24 * 3600 * 1000)}),
    TopicSpec(ROUTING_EVENTS, {"retention.ms": str(30 * 24 * 3600 * 1000)}),
    TopicSpec(AGENTS_PROFILES, {"cleanup.policy": "compact"}),
    TopicSpec(CONTACTS_OUTBOUND, {"retention.ms": str(7 * 24 * 3600 * 1000)}),
    # Survey answers feed service reports over months; keep them as long as the routing history they refer to.
    TopicSpec(CONTACTS_FEEDBACK, {"retention.ms": str(90 * 24 * 3600 * 1000)}),
)


def ensure_topics(
    bootstrap_servers: str,
    partitions: int,
    replication_factor: int,
    *,
    client_options: Mapping[str, Any] | None = None,
) -> list[str]:
    """Create any missing topic; returns the names that were created.

    `client_options`: transport and authentication, from `contactrouting.kafka_security.kafka_client_options`."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="topic-setup", **(client_options or {}))
    try:
        existing = set(admin.list_topics())
        missing = [
            NewTopic(spec.name, partitions, replication_factor, topic_configs=spec.config)
            for spec in TOPICS
            if spec.name not in existing
        ]
        if missing:
            # Another process may win the race; the topics exist either way.
            with suppress(TopicAlreadyExistsError):
                admin.create_topics(missing)
        created = [topic.name for topic in missing]
        log.info("topics_ready", created=created)
        return created
    finally:
        admin.close()
