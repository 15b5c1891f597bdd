"""The manifests reach Kafka the way the services log in: TLS listener, SCRAM user per service, password from the
Strimzi user Secret, the cluster CA mounted, and ACLs for exactly the topics each service uses."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from deploy.consistency import check_services
from deploy.manifest import Manifest
from deploy.render import OVERLAYS
from deploy.topics import check_topics

from .conftest import container, find

ManifestOf = Callable[[str], Manifest]


def messages(manifest: Manifest) -> list[str]:
    return [str(problem) for problem in [*check_services(manifest), *check_topics(manifest)]]


def _env(manifest: Manifest, workload: str) -> list[dict[str, object]]:
    env: list[dict[str, object]] = container(manifest, workload)["env"]
    return env


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_logs_in_over_tls_as_its_own_user(manifest_of: ManifestOf, overlay: str) -> None:
    manifest = manifest_of(overlay)
    assert messages(manifest) == []
    for name in ("skills", "router", "email-gateway", "social-gateway"):
        env = manifest.env(container(manifest, name))
        assert env["KAFKA_SECURITY_PROTOCOL"].value == "SASL_SSL"
        assert env["KAFKA_SASL_USERNAME"].value == name
        assert (env["KAFKA_SASL_PASSWORD"].source, env["KAFKA_SASL_PASSWORD"].reference) == ("secret", name)
        assert env["KAFKA_SSL_CAFILE"].value in manifest.mounted_files(
            manifest.workload(name)["spec"]["template"]["spec"],  # type: ignore[index]
            container(manifest, name),
        )


def test_a_workload_missing_the_kafka_password_reference_is_caught(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("prod")
    env = _env(manifest, "router")
    env[:] = [item for item in env if item["name"] != "KAFKA_SASL_PASSWORD"]
    found = messages(manifest)
    assert any(
        "StatefulSet/router" in m
        and "KAFKA_SECURITY_PROTOCOL=SASL_SSL needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD" in m
        for m in found
    ), found
    assert any("router" in m and "KAFKA_SASL_PASSWORD must come from the Secret router" in m for m in found)


def test_an_inline_kafka_password_is_caught(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("prod")
    for item in _env(manifest, "skills"):
        if item["name"] == "KAFKA_SASL_PASSWORD":
            item.pop("valueFrom")
            item["value"] = "hunter2hunter2"
    assert any("skills: KAFKA_SASL_PASSWORD must come from a Secret, not a value" in m for m in messages(manifest))


def test_an_unmounted_cluster_ca_is_caught(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("dev")
    pod = manifest.workload("skills")["spec"]["template"]["spec"]  # type: ignore[index]
    pod["volumes"] = [volume for volume in pod["volumes"] if volume["name"] != "kafka-ca"]
    mounts = container(manifest, "skills")["volumeMounts"]
    mounts[:] = [mount for mount in mounts if mount["name"] != "kafka-ca"]
    assert any(
        "skills: KAFKA_SSL_CAFILE=/etc/contactrouting/kafka-ca/ca.crt is not a file of any mounted volume" in m
        for m in messages(manifest)
    )


def test_acls_must_name_exactly_the_topics_a_service_uses(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("dev")
    acls = find(manifest, "KafkaUser", "router")["spec"]["authorization"]["acls"]
    acls[:] = [acl for acl in acls if acl["resource"].get("name") != "contacts.inbound"]
    acls.append({"resource": {"type": "topic", "name": "contacts.deadletter.copy"}, "operations": ["Read"]})
    found = messages(manifest)
    assert any("KafkaUser router may not touch contacts.inbound, which the service uses" in m for m in found)
    assert any("KafkaUser router may touch contacts.deadletter.copy, which the service never uses" in m for m in found)


def test_a_plaintext_client_against_the_tls_listener_is_caught(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("dev")
    kafka = find(manifest, "Kafka", "contactrouting")
    listener = kafka["spec"]["kafka"]["listeners"][0]
    listener["tls"] = False
    found = messages(manifest)
    assert len([m for m in found if "KAFKA_SECURITY_PROTOCOL=SASL_SSL, but listener tls has tls: False" in m]) == 4
