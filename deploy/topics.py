"""The Strimzi topics against contactrouting/topics.py and the topics the services import; the bootstrap address."""

from __future__ import annotations

import ast
from pathlib import Path

from contactrouting import topics as topic_contract
from deploy.contract import CONTRACTS
from deploy.manifest import Manifest, Problem
from deploy.render import KubeObject

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


def topics_used_by_services(services_dir: Path = SERVICES_DIR) -> dict[str, set[str]]:
    """Topic name -> the modules that import its constant from contactrouting.topics."""
    used: dict[str, set[str]] = {}
    for path in sorted(services_dir.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except SyntaxError:
            continue  # a file being edited; ruff and the service's own tests report it
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "contactrouting.topics":
                for alias in node.names:
                    value = getattr(topic_contract, alias.name, None)
                    if isinstance(value, str):
                        used.setdefault(value, set()).add(str(path.relative_to(services_dir.parent)))
    return used


def check_topics(manifest: Manifest) -> list[Problem]:
    problems: list[Problem] = []
    kafkas = manifest.of_kind("Kafka")
    if len(kafkas) != 1:
        return [manifest.problem("Kafka", f"expected one Strimzi Kafka cluster, found {len(kafkas)}")]
    cluster = kafkas[0]["metadata"]["name"]
    brokers = sum(
        pool["spec"].get("replicas", 0)
        for pool in manifest.of_kind("KafkaNodePool")
        if pool["metadata"].get("labels", {}).get("strimzi.io/cluster") == cluster
        and "broker" in pool["spec"].get("roles", [])
    )
    declared: dict[str, KubeObject] = {}
    for obj in manifest.of_kind("KafkaTopic"):
        spec = obj["spec"]
        name = spec.get("topicName", obj["metadata"]["name"])
        declared[name] = obj
        if obj["metadata"].get("labels", {}).get("strimzi.io/cluster") != cluster:
            problems.append(manifest.problem(obj, f"is not labelled strimzi.io/cluster={cluster}"))
        replicas = spec.get("replicas", 0)
        if replicas > brokers:
            problems.append(manifest.problem(obj, f"wants {replicas} replicas on {brokers} broker(s)"))
        config = {key: str(value) for key, value in (spec.get("config") or {}).items()}
        if int(config.get("min.insync.replicas", "1")) > replicas:
            problems.append(manifest.problem(obj, "min.insync.replicas exceeds the replicas: every write would fail"))
    for spec in topic_contract.TOPICS:
        topic = declared.get(spec.name)
        if topic is None:
            problems.append(manifest.problem("KafkaTopic", f"no KafkaTopic for {spec.name}"))
            continue
        config = {key: str(value) for key, value in (topic["spec"].get("config") or {}).items()}
        for key, value in spec.config.items():
            if config.get(key) != value:
                problems.append(
                    manifest.problem(topic, f"{key}={config.get(key)}, contactrouting/topics.py says {value}")
                )
        compacted = "compact" in config.get("cleanup.policy", "delete")
        if compacted != (spec.name == topic_contract.AGENTS_PROFILES):
            problems.append(manifest.problem(topic, f"cleanup.policy={config.get('cleanup.policy', 'delete')}"))
        if not compacted and "retention.ms" not in config:
            problems.append(manifest.problem(topic, "has no retention.ms"))
    contract_names = {spec.name for spec in topic_contract.TOPICS}
    for name in sorted(declared.keys() - contract_names):
        problems.append(manifest.problem(declared[name], f"{name} is not a topic of contactrouting/topics.py"))
    for name, modules in sorted(topics_used_by_services().items()):
        if name not in declared:
            problems.append(manifest.problem("KafkaTopic", f"{name} is used by {sorted(modules)} but not declared"))
    problems += _bootstrap(manifest, cluster, kafkas[0])
    return problems


def _bootstrap(manifest: Manifest, cluster: str, kafka: dict[str, object]) -> list[Problem]:
    """Every service must point at a plaintext listener of this cluster: the services speak no TLS to Kafka."""
    listeners = kafka["spec"]["kafka"]["listeners"]  # type: ignore[index]
    plain = {f"{cluster}-kafka-bootstrap:{listener['port']}" for listener in listeners if not listener.get("tls")}
    problems = []
    for contract in CONTRACTS:
        workload = manifest.workload(contract.workload)
        if workload is None:
            continue
        container = workload["spec"]["template"]["spec"]["containers"][0]
        address = manifest.env(container).get("KAFKA_BOOTSTRAP_SERVERS")
        value = address.value if address else None
        host = (value or "").split(".")[0].split(":")[0]
        port = (value or "").rsplit(":", 1)[-1]
        if f"{host}:{port}" not in plain:
            problems.append(
                manifest.problem(workload, f"KAFKA_BOOTSTRAP_SERVERS={value}, expected one of {sorted(plain)}")
            )
    return problems
