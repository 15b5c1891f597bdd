from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from contactrouting.topics import TOPICS
from deploy.manifest import Manifest
from deploy.render import OVERLAYS
from deploy.schemas import check_schemas

from .conftest import container, find

ManifestOf = Callable[[str], Manifest]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_valid_for_kubernetes_and_strimzi(manifest_of: ManifestOf, overlay: str) -> None:
    assert [str(problem) for problem in check_schemas(manifest_of(overlay))] == []


def test_an_unknown_field_is_an_error_in_strict_mode(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("dev")
    container(manifest, "router")["readinessProbe"]["grpcService"] = "contactrouting.v1.AgentDesk"
    found = [str(problem) for problem in check_schemas(manifest)]
    assert any("StatefulSet/router" in m and "grpcService" in m for m in found)


def test_a_wrong_type_is_an_error(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("prod")
    find(manifest, "HorizontalPodAutoscaler", "social-gateway")["spec"]["minReplicas"] = "three"
    assert any("HorizontalPodAutoscaler/social-gateway" in str(p) for p in check_schemas(manifest))


def test_a_strimzi_topic_with_an_unknown_cleanup_policy_is_an_error(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("dev")
    find(manifest, "KafkaTopic", "agents-profiles")["spec"]["config"]["cleanup.policy"] = "compacted"
    assert any("KafkaTopic/agents-profiles" in str(p) and "compacted" in str(p) for p in check_schemas(manifest))


def test_a_strimzi_listener_of_an_unknown_type_is_an_error(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("prod")
    find(manifest, "Kafka", "contactrouting")["spec"]["kafka"]["listeners"][0]["type"] = "clusterip"
    assert any("Kafka/contactrouting" in str(p) and "clusterip" in str(p) for p in check_schemas(manifest))


def test_a_strimzi_field_outside_the_schema_is_an_error(manifest_of: ManifestOf) -> None:
    # ZooKeeper is gone from Strimzi's KRaft-only releases; a leftover section must not pass silently.
    manifest = manifest_of("prod")
    find(manifest, "Kafka", "contactrouting")["spec"]["zookeeper"] = {"replicas": 3}
    assert any("zookeeper" in str(p) for p in check_schemas(manifest))


def test_real_crds_given_on_disk_are_applied_strictly(manifest_of: ManifestOf, tmp_path: Path) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "kafkatopics.kafka.strimzi.io"},
        "spec": {
            "group": "kafka.strimzi.io",
            "names": {"kind": "KafkaTopic", "plural": "kafkatopics"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1beta2",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": {
                                    "type": "object",
                                    "properties": {
                                        "partitions": {"type": "integer", "minimum": 1},
                                        "replicas": {"type": "integer", "minimum": 1},
                                        "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                                    },
                                },
                            },
                        }
                    },
                }
            ],
        },
    }
    (tmp_path / "kafkatopic.yaml").write_text(yaml.safe_dump(crd))
    found = [str(problem) for problem in check_schemas(manifest_of("dev"), tmp_path)]
    # This CRD (unlike Strimzi's) has no topicName: every topic is reported against it, and only against it.
    assert len([m for m in found if "Strimzi CRD" in m and "topicName" in m]) == len(TOPICS)
    assert [m for m in found if "Strimzi CRD" not in m] == []
