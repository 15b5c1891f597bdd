"""The Strimzi topics against contactrouting/topics.py and the topics the services import; the bootstrap address,
the listener's security and each service's KafkaUser."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from contactrouting import topics as topic_contract
from deploy.contract import CONTRACTS
from deploy.manifest import EnvVar, Manifest, Problem
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


def _bootstrap(manifest: Manifest, cluster: str, kafka: dict[str, Any]) -> list[Problem]:
    """Every service must reach a listener of this cluster that speaks its KAFKA_SECURITY_PROTOCOL and, where the
    listener authenticates, log in as a KafkaUser of its own that may touch exactly the topics it uses."""
    listeners = {f"{cluster}-kafka-bootstrap:{item['port']}": item for item in kafka["spec"]["kafka"]["listeners"]}
    users = {user["metadata"]["name"]: user for user in manifest.of_kind("KafkaUser")}
    used = topics_by_service()
    problems = []
    for contract in CONTRACTS:
        workload = manifest.workload(contract.workload)
        if workload is None:
            continue
        env = manifest.env(workload["spec"]["template"]["spec"]["containers"][0])
        value = _value(env, "KAFKA_BOOTSTRAP_SERVERS", "")
        host, port = value.split(".")[0].split(":")[0], value.rsplit(":", 1)[-1]
        listener = listeners.get(f"{host}:{port}")
        if listener is None:
            message = f"KAFKA_BOOTSTRAP_SERVERS={value or None}, expected one of {sorted(listeners)}"
            problems.append(manifest.problem(workload, message))
            continue
        protocol = _value(env, "KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper()
        mechanism = _value(env, "KAFKA_SASL_MECHANISM", "SCRAM-SHA-512").upper()
        if bool(listener.get("tls")) != (protocol in ("SSL", "SASL_SSL")):
            message = f"KAFKA_SECURITY_PROTOCOL={protocol}, but listener {listener['name']} has tls: {listener['tls']}"
            problems.append(manifest.problem(workload, message))
        authentication = (listener.get("authentication") or {}).get("type")
        login = "scram-sha-512" if protocol.startswith("SASL_") and mechanism == "SCRAM-SHA-512" else None
        if authentication != login:
            message = f"logs in with {protocol} {mechanism}, but listener {listener['name']} wants {authentication}"
            problems.append(manifest.problem(workload, message))
        elif login is not None:
            topics = used.get(contract.module.split(".")[1], set())
            problems += [manifest.problem(workload, m) for m in _kafka_user(env, users, topics)]
    return problems


def _kafka_user(env: dict[str, EnvVar], users: dict[str, dict[str, Any]], topics: set[str]) -> Iterator[str]:
    username = _value(env, "KAFKA_SASL_USERNAME", "")
    user = users.get(username)
    if user is None:
        yield f"KAFKA_SASL_USERNAME={username or None} is no KafkaUser of this overlay"
        return
    if user["spec"]["authentication"]["type"] != "scram-sha-512":
        yield f"KafkaUser {username} has no scram-sha-512 password to log in with"
    password = env.get("KAFKA_SASL_PASSWORD")
    # The User Operator writes the password to a Secret named after the user.
    if password is None or password.source != "secret" or password.reference != username:
        yield f"KAFKA_SASL_PASSWORD must come from the Secret {username} that Strimzi generates for the user"
    acls = user["spec"]["authorization"]["acls"]
    granted = {acl["resource"].get("name") for acl in acls if acl["resource"]["type"] == "topic"}
    for name in sorted(topics - granted):
        yield f"KafkaUser {username} may not touch {name}, which the service uses"
    for name in sorted(granted - topics):
        yield f"KafkaUser {username} may touch {name}, which the service never uses"


def topics_by_service() -> dict[str, set[str]]:
    """Service package (router, email_gateway, ...) -> the topics its modules use."""
    result: dict[str, set[str]] = {}
    for topic, modules in topics_used_by_services().items():
        for module in modules:
            result.setdefault(module.split("/")[1], set()).add(topic)
    return result


def _value(env: dict[str, EnvVar], name: str, default: str) -> str:
    var = env.get(name)
    return var.value if var is not None and var.value else default
