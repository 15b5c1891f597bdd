"""A rendered overlay as a set of objects, with the look-ups every check needs (workloads, env, ports, mounts)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from deploy.render import KubeObject

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


@dataclass(frozen=True, order=True)
class Problem:
    """One finding: which object, and what is wrong with it."""

    overlay: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.overlay}] {self.where}: {self.message}"


@dataclass(frozen=True)
class EnvVar:
    """One env var of a container, with where its value comes from (a literal, a ConfigMap or a Secret)."""

    name: str
    source: str  # value | configmap | secret | field
    value: str | None  # None when the value lives outside the rendered objects (a Secret created by operators)
    reference: str | None = None  # the ConfigMap or Secret name


def ref(obj: KubeObject) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


class Manifest:
    def __init__(self, overlay: str, objects: list[KubeObject]) -> None:
        self.overlay = overlay
        self.objects = objects

    def problem(self, where: KubeObject | str, message: str) -> Problem:
        return Problem(self.overlay, where if isinstance(where, str) else ref(where), message)

    def of_kind(self, *kinds: str) -> list[KubeObject]:
        return [obj for obj in self.objects if obj.get("kind") in kinds]

    def get(self, kind: str, name: str) -> KubeObject | None:
        return next((obj for obj in self.of_kind(kind) if obj["metadata"]["name"] == name), None)

    def workloads(self) -> list[KubeObject]:
        return self.of_kind(*WORKLOAD_KINDS)

    def workload(self, name: str) -> KubeObject | None:
        return next((obj for obj in self.workloads() if obj["metadata"]["name"] == name), None)

    # --- configuration data ------------------------------------------------------------------------------------
    def config_data(self, kind: str, name: str) -> dict[str, str] | None:
        """The data of a ConfigMap or Secret in this overlay, decoded; None when it is created outside it."""
        obj = self.get(kind, name)
        if obj is None:
            return None
        data: dict[str, str] = dict(obj.get("data") or {})
        if kind == "Secret":
            data = {key: base64.b64decode(value).decode() for key, value in data.items()}
            data.update(obj.get("stringData") or {})
        return data

    def env(self, container: dict[str, Any]) -> dict[str, EnvVar]:
        """The container's environment as the kubelet builds it: envFrom first, then env overriding it."""
        result: dict[str, EnvVar] = {}
        for source in container.get("envFrom") or []:
            for key, kind, label in (("configMapRef", "ConfigMap", "configmap"), ("secretRef", "Secret", "secret")):
                if key in source:
                    name = source[key]["name"]
                    for var, value in (self.config_data(kind, name) or {}).items():
                        result[var] = EnvVar(source.get("prefix", "") + var, label, value, name)
        for item in container.get("env") or []:
            value_from = item.get("valueFrom")
            if value_from is None:
                result[item["name"]] = EnvVar(item["name"], "value", item.get("value", ""))
            elif "secretKeyRef" in value_from:
                selector = value_from["secretKeyRef"]
                data = self.config_data("Secret", selector["name"])
                result[item["name"]] = EnvVar(
                    item["name"], "secret", None if data is None else data.get(selector["key"]), selector["name"]
                )
            elif "configMapKeyRef" in value_from:
                selector = value_from["configMapKeyRef"]
                data = self.config_data("ConfigMap", selector["name"])
                result[item["name"]] = EnvVar(
                    item["name"], "configmap", None if data is None else data.get(selector["key"]), selector["name"]
                )
            else:
                result[item["name"]] = EnvVar(item["name"], "field", None)
        return result

    def mounted_files(self, pod_spec: dict[str, Any], container: dict[str, Any]) -> dict[str, str | None]:
        """Every file a ConfigMap or Secret volume puts into the container, with its content when the overlay holds it.

        A Secret that operators create is unknown here: its files are known only when the volume lists `items`.
        """
        volumes = {volume["name"]: volume for volume in pod_spec.get("volumes") or []}
        files: dict[str, str | None] = {}
        for mount in container.get("volumeMounts") or []:
            volume = volumes.get(mount["name"], {})
            if "configMap" in volume:
                source, data = volume["configMap"], self.config_data("ConfigMap", volume["configMap"]["name"])
            elif "secret" in volume:
                source, data = volume["secret"], self.config_data("Secret", volume["secret"]["secretName"])
            else:
                continue
            items = source.get("items") or [{"key": key, "path": key} for key in data or {}]
            for item in items:
                if mount.get("subPath") and mount["subPath"] != item["path"]:
                    continue
                path = (
                    mount["mountPath"] if mount.get("subPath") else f"{mount['mountPath'].rstrip('/')}/{item['path']}"
                )
                files[path] = None if data is None else data.get(item["key"])
        return files


def pod_spec(workload: KubeObject) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def pod_labels(workload: KubeObject) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"].get("labels") or {}
    return labels


def containers(workload: KubeObject) -> Iterator[dict[str, Any]]:
    yield from pod_spec(workload).get("containers") or []


def container_port(container: dict[str, Any], port: int | str) -> int | None:
    """A probe's or Service's port as a number: a named port is looked up in the container."""
    if isinstance(port, int):
        return port
    if port.isdigit():
        return int(port)
    return next((p["containerPort"] for p in container.get("ports") or [] if p.get("name") == port), None)
