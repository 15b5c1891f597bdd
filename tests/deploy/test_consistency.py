"""The manifests against the services' own settings classes; each break below is one a reviewer could miss."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

import deploy.consistency
from deploy.consistency import check_services
from deploy.contract import CONTRACTS, ServiceContract, serves_metrics, settings_class
from deploy.manifest import Manifest
from deploy.render import OVERLAYS

from .conftest import container, find

ManifestOf = Callable[[str], Manifest]


def messages(manifest: Manifest) -> list[str]:
    return [str(problem) for problem in check_services(manifest)]


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda contract: contract.workload)
def test_every_service_defines_the_settings_the_manifests_are_checked_against(contract: object) -> None:
    assert settings_class(contract) is not None  # type: ignore[arg-type]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_manifests_match_what_the_services_read(manifest_of: ManifestOf, overlay: str) -> None:
    assert messages(manifest_of(overlay)) == []


def test_a_port_changed_in_the_configmap_but_not_in_the_container_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("dev")
    find(manifest, "ConfigMap", "router-env")["data"]["ROUTER_GRPC_PORT"] = "50061"
    found = messages(manifest)
    assert any("container port grpc=50051 but ROUTER_GRPC_PORT=50061" in message for message in found)
    assert any("readinessProbe probes port 50051 but ROUTER_GRPC_PORT=50061" in message for message in found)


def test_an_env_var_no_service_reads_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("prod")
    container(manifest, "email-gateway").setdefault("env", []).append({"name": "SMTP_LISTEN_PORT", "value": "25"})
    assert any("sets SMTP_LISTEN_PORT, which services.email_gateway never reads" in m for m in messages(manifest))


def test_a_bind_address_left_at_the_services_loopback_default_is_found(manifest_of: ManifestOf) -> None:
    # The skills service binds 127.0.0.1 unless told otherwise; the default comes from its settings class.
    manifest = manifest_of("dev")
    del find(manifest, "ConfigMap", "skills-env")["data"]["SKILLS_GRPC_HOST"]
    assert any("SKILLS_GRPC_HOST=127.0.0.1 listens only inside the pod" in m for m in messages(manifest))


def test_a_probe_asking_the_wrong_health_service_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("dev")
    container(manifest, "router")["readinessProbe"]["grpc"]["service"] = "contactrouting.v1.RoutingAdmin"
    assert any("expected 'contactrouting.v1.AgentDesk'" in m for m in messages(manifest))


def test_the_email_gateway_health_probe_must_use_its_health_port(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("dev")
    container(manifest, "email-gateway")["livenessProbe"]["httpGet"]["port"] = "smtp"
    assert any("livenessProbe probes port smtp but EMAIL_HEALTH_PORT=8081" in m for m in messages(manifest))


def test_a_secret_written_inline_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("dev")
    env = container(manifest, "skills")["env"]
    env[:] = [item for item in env if item["name"] != "DATABASE_URL"]
    env.append({"name": "DATABASE_URL", "value": "postgresql+psycopg://skills:pw@db/skills"})
    assert any("DATABASE_URL must come from a Secret, not a value" in m for m in messages(manifest))


def test_a_value_the_settings_model_rejects_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("dev")
    find(manifest, "ConfigMap", "platform-env")["data"]["LOG_FORMAT"] = "xml"
    assert any("rejects LOG_FORMAT" in m for m in messages(manifest))


def test_a_routing_policy_the_router_would_refuse_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("prod")
    find(manifest, "ConfigMap", "router-policy")["data"]["routing_policy.yaml"] = "queues: not-a-list\n"
    assert any("the service's own loader rejects" in m for m in messages(manifest))


def test_a_config_file_path_outside_every_mount_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("dev")
    find(manifest, "ConfigMap", "email-gateway-env")["data"]["EMAIL_GATEWAY_CONFIG"] = "/etc/email.yaml"
    assert any(
        "EMAIL_GATEWAY_CONFIG=/etc/email.yaml is not a file of any mounted ConfigMap" in m for m in messages(manifest)
    )


def test_a_secret_reference_in_the_social_config_without_an_env_var_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("prod")
    env = container(manifest, "social-gateway")["env"]
    env[:] = [item for item in env if item["name"] != "X_CONSUMER_SECRET"]
    assert any("reads env var X_CONSUMER_SECRET, which the pod does not set" in m for m in messages(manifest))


def test_a_service_port_that_points_nowhere_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("dev")
    service = manifest.get("Service", "social-gateway")
    assert service is not None
    service["spec"]["ports"][0]["targetPort"] = "webhooks"
    assert any("targetPort webhooks is no port of Deployment" in m for m in messages(manifest))


def test_the_command_must_run_the_service_module(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("dev")
    container(manifest, "skills")["command"] = ["python", "-m", "services.skills.cli"]
    assert any("expected ['python', '-m', 'services.skills']" in m for m in messages(manifest))


def test_a_startup_probe_shorter_than_the_routers_own_startup_timeout_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("prod")
    container(manifest, "router")["startupProbe"]["failureThreshold"] = 12
    assert any("startupProbe gives up after 60s, before ROUTER_STARTUP_TIMEOUT_S=120s" in m for m in messages(manifest))


def test_a_service_that_stops_serving_metrics_is_found(
    manifest_of: ManifestOf, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if the skills service dropped its setup_metrics call while its pod still declares and annotates the port.
    def only_others(contract: ServiceContract, *_: object) -> bool:
        return contract.workload != "skills"

    monkeypatch.setattr(deploy.consistency, "serves_metrics", only_others)
    assert messages(manifest_of("dev")) == [
        "[dev] Deployment/skills: declares METRICS_PORT, but services.skills never calls setup_metrics: "
        "nothing serves /metrics"
    ]


def test_every_service_serves_metrics() -> None:
    assert [contract.workload for contract in CONTRACTS if not serves_metrics(contract)] == []


def test_a_pod_without_its_metrics_port_and_scrape_annotation_is_found(manifest_of: ManifestOf) -> None:
    contract = CONTRACTS[0]
    manifest = manifest_of("prod")
    workload = manifest.workload(contract.workload)
    assert workload is not None
    ports = container(manifest, contract.workload)["ports"]
    ports[:] = [port for port in ports if port["name"] != "metrics"]
    workload["spec"]["template"]["metadata"]["annotations"] = {}
    found = messages(manifest)
    assert any("declares no container port named 'metrics' for METRICS_PORT" in m for m in found)
    assert any("its pods lack prometheus.io/scrape" in m for m in found)


def test_metrics_are_detected_from_the_services_own_code(tmp_path: Path) -> None:
    package = tmp_path / "services" / "demo"
    package.mkdir(parents=True)
    contract = ServiceContract("demo", "services.demo", (), (), {}, CONTRACTS[0].probe, {})
    (package / "__main__.py").write_text("from contactrouting import metrics\n")
    assert not serves_metrics(contract, tmp_path / "services")
    (package / "__main__.py").write_text("from contactrouting import metrics\nmetrics.setup_metrics('demo', s)\n")
    assert serves_metrics(contract, tmp_path / "services")


def test_a_setting_the_contract_names_but_the_service_dropped_is_found(
    manifest_of: ManifestOf, monkeypatch: pytest.MonkeyPatch
) -> None:
    router = next(c for c in CONTRACTS if c.workload == "router")
    renamed = dataclasses.replace(router, port_env={"grpc": "ROUTER_PORT"})
    monkeypatch.setattr(deploy.consistency, "CONTRACTS", (renamed,))
    found = messages(manifest_of("dev"))
    assert any("services.router no longer reads ROUTER_PORT: update deploy/contract.py" in m for m in found)
    assert any("container port grpc=50051 but ROUTER_PORT=None" in m for m in found)


def test_a_file_setting_pointing_outside_every_volume_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("prod")
    find(manifest, "ConfigMap", "email-gateway-env")["data"]["SMTP_TLS_KEY_FILE"] = "/etc/tls/key.pem"
    assert any(
        "SMTP_TLS_KEY_FILE=/etc/tls/key.pem is not a file of any mounted volume" in m for m in messages(manifest)
    )


def test_an_imap_password_variable_named_by_the_email_config_must_be_set(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("prod")
    config = find(manifest, "ConfigMap", "email-gateway-config")["data"]
    config["email_gateway.yaml"] += (
        "imap_accounts:\n"
        "  - {name: helpdesk, host: imap.example.net, username: helpdesk@example.net,\n"
        "     password_env: HELPDESK_IMAP_PASSWORD, mailbox: support@example.com}\n"
    )
    assert any("reads env var HELPDESK_IMAP_PASSWORD, which the pod does not set" in m for m in messages(manifest))
    env = container(manifest, "email-gateway").setdefault("env", [])
    env.append(
        {
            "name": "HELPDESK_IMAP_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": "email-gateway-secrets", "key": "HELPDESK_IMAP_PASSWORD"}},
        }
    )
    assert messages(manifest) == []
