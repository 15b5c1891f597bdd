from __future__ import annotations

from collections.abc import Callable

import pytest

from contactrouting.topics import TOPICS
from deploy.manifest import Manifest
from deploy.render import OVERLAYS
from deploy.topics import check_topics, topics_used_by_services

from .conftest import find

ManifestOf = Callable[[str], Manifest]


def messages(manifest: Manifest) -> list[str]:
    return [str(problem) for problem in check_topics(manifest)]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_topics_match_the_contract_and_what_the_services_use(manifest_of: ManifestOf, overlay: str) -> None:
    assert messages(manifest_of(overlay)) == []


def test_the_services_use_every_contract_topic() -> None:
    assert set(topics_used_by_services()) == {spec.name for spec in TOPICS}


def test_an_uncompacted_profiles_topic_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("prod")
    find(manifest, "KafkaTopic", "agents-profiles")["spec"]["config"]["cleanup.policy"] = "delete"
    assert any("cleanup.policy=delete, contactrouting/topics.py says compact" in m for m in messages(manifest))


def test_a_missing_topic_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("dev")
    manifest.objects.remove(find(manifest, "KafkaTopic", "routing-events"))
    found = messages(manifest)
    assert any("no KafkaTopic for routing.events" in m for m in found)
    assert any("routing.events is used by" in m for m in found)


def test_a_retention_that_drifts_from_the_contract_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("prod")
    find(manifest, "KafkaTopic", "contacts-inbound")["spec"]["config"]["retention.ms"] = 3600000
    assert any("retention.ms=3600000" in m for m in messages(manifest))


def test_more_replicas_than_brokers_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("dev")
    find(manifest, "KafkaTopic", "contacts-outbound")["spec"]["replicas"] = 3
    assert any("wants 3 replicas on 1 broker(s)" in m for m in messages(manifest))


def test_a_bootstrap_address_of_another_cluster_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("dev")
    find(manifest, "ConfigMap", "platform-env")["data"]["KAFKA_BOOTSTRAP_SERVERS"] = "kafka:9092"
    assert len([m for m in messages(manifest) if "KAFKA_BOOTSTRAP_SERVERS=kafka:9092" in m]) == 4
