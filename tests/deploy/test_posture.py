from __future__ import annotations

from collections.abc import Callable

import pytest

from deploy.manifest import Manifest
from deploy.posture import check_posture
from deploy.render import OVERLAYS

from .conftest import container, find

ManifestOf = Callable[[str], Manifest]


def messages(manifest: Manifest) -> list[str]:
    return [str(problem) for problem in check_posture(manifest)]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_workload_is_locked_down_sized_probed_and_budgeted(manifest_of: ManifestOf, overlay: str) -> None:
    assert messages(manifest_of(overlay)) == []


def test_a_writable_root_filesystem_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("prod")
    container(manifest, "social-gateway")["securityContext"]["readOnlyRootFilesystem"] = False
    assert any(
        "Deployment/social-gateway: container social-gateway: readOnlyRootFilesystem" in m for m in messages(manifest)
    )


def test_kept_capabilities_are_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("dev")
    container(manifest, "postgresql")["securityContext"]["capabilities"] = {"drop": ["NET_RAW"]}
    assert any("StatefulSet/postgresql: container postgresql: does not drop ALL" in m for m in messages(manifest))


def test_a_workload_without_a_disruption_budget_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("prod")
    manifest.objects.remove(find(manifest, "PodDisruptionBudget", "router"))
    assert any("StatefulSet/router: no PodDisruptionBudget" in m for m in messages(manifest))


def test_replicas_on_an_autoscaled_deployment_are_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("prod")
    find(manifest, "Deployment", "email-gateway")["spec"]["replicas"] = 2
    assert any("fights its HPA" in m for m in messages(manifest))


def test_a_missing_gateway_autoscaler_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("dev")
    manifest.objects.remove(find(manifest, "HorizontalPodAutoscaler", "social-gateway"))
    assert any("Deployment/social-gateway: has no HorizontalPodAutoscaler" in m for m in messages(manifest))


def test_a_secret_in_a_configmap_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("dev")
    find(manifest, "ConfigMap", "platform-env")["data"]["SKILLS_ADMIN_TOKEN"] = "x"
    assert any("SKILLS_ADMIN_TOKEN looks like a secret" in m for m in messages(manifest))


def test_removing_default_deny_is_found(manifest_of: ManifestOf) -> None:
    manifest = manifest_of("prod")
    manifest.objects.remove(find(manifest, "NetworkPolicy", "default-deny"))
    assert any("no default-deny policy" in m for m in messages(manifest))
