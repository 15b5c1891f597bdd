"""Operational and security posture of every workload: non-root, read-only, no capabilities, sized, probed,
disruption-budgeted, autoscaled where the design says so, with its own ServiceAccount and no inline secrets."""

from __future__ import annotations

from typing import Any

from deploy.consistency import SECRET_NAME
from deploy.manifest import Manifest, Problem, containers, pod_labels, pod_spec
from deploy.render import KubeObject

AUTOSCALED = ("email-gateway", "social-gateway")


def check_posture(manifest: Manifest) -> list[Problem]:
    problems: list[Problem] = []
    for workload in manifest.workloads():
        problems += [manifest.problem(workload, message) for message in _workload(manifest, workload)]
    for config_map in manifest.of_kind("ConfigMap"):
        for key in config_map.get("data") or {}:
            if SECRET_NAME.search(key):
                problems.append(manifest.problem(config_map, f"{key} looks like a secret: use a Secret"))
    problems += _default_deny(manifest)
    problems += _autoscaling(manifest)
    return problems


def _workload(manifest: Manifest, workload: KubeObject) -> list[str]:
    spec = pod_spec(workload)
    pod_security = spec.get("securityContext") or {}
    found = []
    if pod_security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        found.append("pod securityContext.seccompProfile must be RuntimeDefault")
    account = spec.get("serviceAccountName")
    if not account or manifest.get("ServiceAccount", account) is None:
        found.append(f"runs as ServiceAccount {account!r}, which this overlay does not define")
    if spec.get("automountServiceAccountToken") is not False:
        found.append("mounts a ServiceAccount token it never uses")
    for container in [*containers(workload), *(spec.get("initContainers") or [])]:
        found += [f"container {container['name']}: {message}" for message in _container(container, pod_security)]
    if not _budgeted(manifest, workload):
        found.append("no PodDisruptionBudget selects its pods")
    return found


def _container(container: dict[str, Any], pod_security: dict[str, Any]) -> list[str]:
    security = container.get("securityContext") or {}
    found = []
    if not (security.get("runAsNonRoot") or pod_security.get("runAsNonRoot")):
        found.append("runAsNonRoot is not set")
    if security.get("runAsUser", pod_security.get("runAsUser")) == 0:
        found.append("runs as uid 0")
    if security.get("readOnlyRootFilesystem") is not True:
        found.append("readOnlyRootFilesystem is not true")
    if security.get("allowPrivilegeEscalation") is not False:
        found.append("allowPrivilegeEscalation is not false")
    if "ALL" not in (security.get("capabilities") or {}).get("drop", []):
        found.append("does not drop ALL capabilities")
    if security.get("privileged"):
        found.append("is privileged")
    resources = container.get("resources") or {}
    for section, keys in (("requests", ("cpu", "memory")), ("limits", ("memory",))):
        missing = [key for key in keys if key not in (resources.get(section) or {})]
        if missing:
            found.append(f"resources.{section} lacks {', '.join(missing)}")
    for probe in ("readinessProbe", "livenessProbe"):
        if probe not in container:
            found.append(f"has no {probe}")
    image = str(container.get("image", ""))
    if ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"):
        found.append(f"image {image!r} has no pinned tag")
    return found


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    match = selector.get("matchLabels") or {}
    return bool(match) and all(labels.get(key) == value for key, value in match.items())


def _budgeted(manifest: Manifest, workload: KubeObject) -> bool:
    labels = pod_labels(workload)
    return any(_selects(pdb["spec"].get("selector") or {}, labels) for pdb in manifest.of_kind("PodDisruptionBudget"))


def _default_deny(manifest: Manifest) -> list[Problem]:
    for policy in manifest.of_kind("NetworkPolicy"):
        spec = policy["spec"]
        if (
            spec.get("podSelector") == {}
            and set(spec.get("policyTypes") or []) == {"Ingress", "Egress"}
            and not spec.get("ingress")
            and not spec.get("egress")
        ):
            return []
    return [manifest.problem("NetworkPolicy", "no default-deny policy (empty podSelector, Ingress and Egress)")]


def _autoscaling(manifest: Manifest) -> list[Problem]:
    problems = []
    for name in AUTOSCALED:
        hpas = [
            hpa
            for hpa in manifest.of_kind("HorizontalPodAutoscaler")
            if hpa["spec"]["scaleTargetRef"].get("name") == name
        ]
        deployment = manifest.get("Deployment", name)
        if not hpas or deployment is None:
            problems.append(manifest.problem(f"Deployment/{name}", "has no HorizontalPodAutoscaler"))
            continue
        if "replicas" in deployment["spec"]:
            problems.append(manifest.problem(deployment, "sets replicas, which fights its HPA on every apply"))
        if hpas[0]["spec"].get("minReplicas", 1) < 1:
            problems.append(manifest.problem(hpas[0], "minReplicas must be at least 1"))
    return problems
