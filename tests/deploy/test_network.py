from __future__ import annotations

from collections.abc import Callable

import pytest

from deploy.manifest import Manifest
from deploy.network import check_network, selects
from deploy.render import OVERLAYS

from .conftest import find

ManifestOf = Callable[[str], Manifest]


def messages(manifest: Manifest) -> list[str]:
    return [str(problem) for problem in check_network(manifest)]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_needed_flows_are_open_and_the_rest_closed(manifest_of: ManifestOf, overlay: str) -> None:
    assert messages(manifest_of(overlay)) == []


def test_without_the_dns_policy_every_service_loses_dns(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("dev")
    manifest.objects.remove(find(manifest, "NetworkPolicy", "allow-dns"))
    assert len([m for m in messages(manifest) if "-> kube-dns:53 is blocked" in m]) == 4


def test_a_mislabelled_kafka_client_cannot_reach_the_brokers(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("prod")
    workload = manifest.workload("router")
    assert workload is not None
    del workload["spec"]["template"]["metadata"]["labels"]["contactrouting.io/kafka-client"]
    assert messages(manifest) == ["[prod] NetworkPolicy: router -> kafka:9093 is blocked but the platform needs it"]


def test_an_allow_all_egress_policy_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("dev")
    manifest.objects.append(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "allow-all-egress", "namespace": "contactrouting-dev"},
            "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]},
        }
    )
    found = messages(manifest)
    assert "[dev] NetworkPolicy: router -> internet:443 is open but nothing needs it" in found
    # PostgreSQL still admits only database clients: its own ingress policy holds even with egress wide open.
    assert not any("postgresql" in m for m in found)


def test_the_relay_port_the_email_gateway_uses_must_be_open(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("prod")
    find(manifest, "ConfigMap", "email-gateway-env")["data"]["SMTP_RELAY_PORT"] = "2587"
    assert messages(manifest) == [
        "[prod] NetworkPolicy: email-gateway -> internet:2587 is blocked but the platform needs it"
    ]


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ({}, {"a": "1"}, True),
        ({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"}, True),
        ({"matchLabels": {"a": "1"}}, {"a": "2"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"a": "x"}, True),
        ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"a": "x"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "2"]}]}, {"a": "2"}, True),
        ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {"a": "1"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {}, True),
    ],
)
def test_label_selectors_follow_kubernetes_semantics(selector: dict, labels: dict, expected: bool) -> None:
    assert selects(selector, labels) is expected


def test_an_imap_server_on_a_port_the_policy_does_not_open_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("prod")
    find(manifest, "ConfigMap", "email-gateway-config")["data"]["email_gateway.yaml"] += (
        "imap_accounts:\n"
        "  - {name: legacy, host: imap.example.net, port: 143, tls: false, username: u,\n"
        "     password_env: LEGACY_IMAP_PASSWORD, mailbox: support@example.com}\n"
    )
    assert messages(manifest) == [
        "[prod] NetworkPolicy: email-gateway -> internet:143 is blocked but the platform needs it"
    ]
