"""Offline schema validation: Kubernetes objects with kubernetes-validate (strict: unknown fields are errors),
Strimzi objects with a schema of the Strimzi fields we use, and optionally with real CRDs given on disk.

No Strimzi CRD ships in a registry package, so `STRIMZI` below is our own strict description of the subset of
`kafka.strimzi.io/v1beta2` this repository writes (field names, types, enums), checked by hand against the
Strimzi 0.4x CRDs. `--crds DIR` validates against the real CRD schemas as well, e.g. after
`kubectl get crd kafkas.kafka.strimzi.io kafkanodepools.kafka.strimzi.io kafkatopics.kafka.strimzi.io -o yaml`.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate import utils
from referencing import Registry, Resource

from deploy.manifest import Manifest, Problem
from deploy.render import KubeObject

# The oldest release we support (native gRPC probes, autoscaling/v2, policy/v1) and the newest with schemas here.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
STRIMZI_GROUP = "kafka.strimzi.io/v1beta2"

_OBJECT: dict[str, Any] = {"type": "object"}
_QUANTITY = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$"}
_RESOURCES = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "requests": {"type": "object", "additionalProperties": {"type": ["string", "integer"]}},
        "limits": {"type": "object", "additionalProperties": {"type": ["string", "integer"]}},
    },
}
_VOLUME = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type"],
    "properties": {
        "id": {"type": "integer", "minimum": 0},
        "type": {"enum": ["ephemeral", "persistent-claim"]},
        "size": _QUANTITY,
        "sizeLimit": _QUANTITY,
        "class": {"type": "string"},
        "deleteClaim": {"type": "boolean"},
        "kraftMetadata": {"enum": ["shared"]},
    },
}
_METADATA: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63}},
}
_CLUSTER_LABEL: dict[str, Any] = {
    **_METADATA,
    "required": ["name", "labels"],
    "properties": {
        **_METADATA["properties"],
        "labels": {"type": "object", "required": ["strimzi.io/cluster"]},
    },
}


def _document(kind: str, metadata: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": STRIMZI_GROUP},
            "kind": {"const": kind},
            "metadata": metadata,
            "spec": spec,
        },
    }


STRIMZI: dict[str, dict[str, Any]] = {
    "KafkaTopic": _document(
        "KafkaTopic",
        _CLUSTER_LABEL,
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "topicName": {"type": "string", "pattern": r"^[a-zA-Z0-9._-]{1,249}$"},
                "partitions": {"type": "integer", "minimum": 1},
                "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
                "config": {
                    "type": "object",
                    "additionalProperties": {"type": ["string", "integer", "boolean", "number"]},
                    "properties": {
                        "cleanup.policy": {"enum": ["delete", "compact", "compact,delete", "delete,compact"]}
                    },
                },
            },
        },
    ),
    "KafkaNodePool": _document(
        "KafkaNodePool",
        _CLUSTER_LABEL,
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["replicas", "roles", "storage"],
            "properties": {
                "replicas": {"type": "integer", "minimum": 0},
                "roles": {
                    "type": "array",
                    "minItems": 1,
                    "uniqueItems": True,
                    "items": {"enum": ["controller", "broker"]},
                },
                "storage": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["type", "volumes"],
                    "properties": {
                        "type": {"const": "jbod"},
                        "volumes": {"type": "array", "minItems": 1, "items": _VOLUME},
                    },
                },
                "resources": _RESOURCES,
                "jvmOptions": _OBJECT,
                "template": _OBJECT,
            },
        },
    ),
    "KafkaUser": _document(
        "KafkaUser",
        _CLUSTER_LABEL,
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["authentication", "authorization"],
            "properties": {
                "authentication": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["type"],
                    "properties": {"type": {"enum": ["scram-sha-512", "tls", "tls-external"]}, "password": _OBJECT},
                },
                "authorization": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["type", "acls"],
                    "properties": {
                        "type": {"const": "simple"},
                        "acls": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["resource", "operations"],
                                "properties": {
                                    "resource": {
                                        "type": "object",
                                        "additionalProperties": False,
                                        "required": ["type"],
                                        "properties": {
                                            "type": {"enum": ["topic", "group", "cluster", "transactionalId"]},
                                            "name": {"type": "string", "minLength": 1},
                                            "patternType": {"enum": ["literal", "prefix"]},
                                        },
                                    },
                                    "operations": {
                                        "type": "array",
                                        "minItems": 1,
                                        "uniqueItems": True,
                                        "items": {
                                            "enum": [
                                                "Read",
                                                "Write",
                                                "Create",
                                                "Delete",
                                                "Alter",
                                                "Describe",
                                                "ClusterAction",
                                                "AlterConfigs",
                                                "DescribeConfigs",
                                                "IdempotentWrite",
                                                "All",
                                            ]
                                        },
                                    },
                                    "host": {"type": "string"},
                                    "type": {"enum": ["allow", "deny"]},
                                },
                            },
                        },
                    },
                },
                "quotas": _OBJECT,
                "template": _OBJECT,
            },
        },
    ),
    "Kafka": _document(
        "Kafka",
        {
            **_METADATA,
            "required": ["name", "annotations"],
            "properties": {
                **_METADATA["properties"],
                # Strimzi 0.46+ runs KRaft with node pools only; say so explicitly.
                "annotations": {
                    "type": "object",
                    "required": ["strimzi.io/kraft", "strimzi.io/node-pools"],
                    "properties": {
                        "strimzi.io/kraft": {"const": "enabled"},
                        "strimzi.io/node-pools": {"const": "enabled"},
                    },
                },
            },
        },
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["kafka"],
            "properties": {
                "kafka": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["listeners"],
                    "properties": {
                        "version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+$"},
                        "metadataVersion": {"type": "string"},
                        "listeners": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["name", "port", "type", "tls"],
                                "properties": {
                                    "name": {"type": "string", "pattern": r"^[a-z0-9]{1,11}$"},
                                    "port": {"type": "integer", "minimum": 9092, "not": {"enum": [9404, 9999]}},
                                    "type": {
                                        "enum": [
                                            "internal",
                                            "route",
                                            "loadbalancer",
                                            "nodeport",
                                            "ingress",
                                            "cluster-ip",
                                        ]
                                    },
                                    "tls": {"type": "boolean"},
                                    "authentication": _OBJECT,
                                    "configuration": _OBJECT,
                                    "networkPolicyPeers": {"type": "array", "items": _OBJECT},
                                },
                            },
                        },
                        "config": {"type": "object"},
                        "authorization": _OBJECT,
                        "rack": _OBJECT,
                        "template": _OBJECT,
                        "jvmOptions": _OBJECT,
                        "metricsConfig": _OBJECT,
                        "logging": _OBJECT,
                        "resources": _RESOURCES,
                    },
                },
                "entityOperator": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"topicOperator": _OBJECT, "userOperator": _OBJECT, "template": _OBJECT},
                },
                "cruiseControl": _OBJECT,
                "kafkaExporter": _OBJECT,
            },
        },
    ),
}


def check_schemas(manifest: Manifest, crd_dir: Path | None = None) -> list[Problem]:
    crds = load_crds(crd_dir) if crd_dir else {}
    problems: list[Problem] = []
    for obj in manifest.objects:
        if str(obj.get("apiVersion", "")).startswith("kafka.strimzi.io/"):
            problems += [manifest.problem(obj, message) for message in _strimzi(obj, crds)]
            continue
        for version in KUBERNETES_VERSIONS:
            validator = kubernetes_validator(version, str(obj.get("apiVersion")), str(obj.get("kind")))
            if validator is None:
                problems.append(
                    manifest.problem(obj, f"Kubernetes {version} has no {obj.get('apiVersion')} {obj['kind']}")
                )
                continue
            for error in validator.iter_errors(obj):
                problems.append(manifest.problem(obj, f"Kubernetes {version}: {_path(error)}: {error.message}"))
    return problems


@functools.cache
def kubernetes_validator(version: str, api_version: str, kind: str) -> jsonschema.Draft202012Validator | None:
    """kubernetes-validate's strict schema for one kind, built once: the library re-reads its multi-megabyte
    definitions file on every call, which made validating a few hundred objects take many seconds."""
    bundled = [v for v in utils.all_versions() if utils.major_minor(v) <= utils.major_minor(version)][-1]
    directory = f"kubernetes-json-schema/v{bundled}-local-strict"
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = utils.schema_contents(f"{directory}/{kind.lower()}-{group}.json", version)
    except FileNotFoundError:
        return None
    definitions = utils.schema_contents(f"{directory}/_definitions.json", version)
    registry: Registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _strimzi(obj: KubeObject, crds: dict[tuple[str, str], dict[str, Any]]) -> list[str]:
    schema = STRIMZI.get(obj["kind"])
    if schema is None or obj.get("apiVersion") != STRIMZI_GROUP:
        return [f"{obj.get('apiVersion')} {obj['kind']} is not among the Strimzi kinds this repository knows"]
    messages = [f"Strimzi subset: {_path(e)}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(obj)]
    crd = crds.get((obj["apiVersion"], obj["kind"]))
    if crd is not None:
        validator = jsonschema.Draft7Validator(crd)
        messages += [f"Strimzi CRD: {_path(e)}: {e.message}" for e in validator.iter_errors(obj)]
    return messages


def _path(error: jsonschema.ValidationError) -> str:
    return "/".join(str(part) for part in error.absolute_path) or "<root>"


def load_crds(directory: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the CRD's schema, made strict: a field the CRD does not define is an error."""
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(directory.glob("*.y*ml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not document or document.get("kind") != "CustomResourceDefinition":
                continue
            spec = document["spec"]
            for version in spec["versions"]:
                schema = version.get("schema", {}).get("openAPIV3Schema")
                if schema:
                    key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                    schemas[key] = _strict(copy.deepcopy(schema))
    return schemas


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    if "properties" in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
        schema.setdefault("additionalProperties", False)
    for child in (schema.get("properties") or {}).values():
        _strict(child)
    if isinstance(schema.get("items"), dict):
        _strict(schema["items"])
    for key in ("oneOf", "anyOf", "allOf"):
        for child in schema.get(key) or []:
            _strict(child)
    # metadata is checked by the API server, not by the CRD schema.
    if "metadata" in (schema.get("properties") or {}):
        schema["properties"]["metadata"] = {"type": "object"}
    return schema
