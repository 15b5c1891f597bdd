"""Do the manifests run the services the way the services read their settings? Ports, probes, env, config files.

Every finding names the workload and the setting, so a renamed variable or a moved port fails here, not in a pod.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from contactrouting.config import ServiceSettings
from deploy.contract import (
    CONTRACTS,
    METRICS_PORT_ENV,
    ServiceContract,
    default_env,
    env_names,
    isolated_settings,
    load_with,
    port_env,
    serves_metrics,
    settings_class,
)
from deploy.manifest import EnvVar, Manifest, Problem, container_port, containers, pod_labels, pod_spec

BIND_ALL = ("0.0.0.0", "::")
# Values that must come from a Secret, never from a literal or a ConfigMap.
SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|DATABASE_URL|API_KEY)$")
# Secrets whose mere presence a settings model checks (SASL needs a password); a stand-in value lets it.
PRESENCE_CHECKED_SECRETS = frozenset({"KAFKA_SASL_PASSWORD"})
# Settings naming a file the pod must have (KAFKA_SSL_CAFILE, GRPC_TLS_CERT_FILE, ...).
FILE_SUFFIXES = ("_FILE", "_CAFILE", "_CERTFILE", "_KEYFILE")
ENV_REFERENCE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


def check_services(manifest: Manifest, strict: bool = True) -> list[Problem]:
    """All services of the contract; with strict, a service without a settings class is itself a problem."""
    problems: list[Problem] = []
    for contract in CONTRACTS:
        settings = settings_class(contract)
        if settings is None and strict:
            problems.append(manifest.problem(contract.module, "defines no ServiceSettings subclass to compare with"))
        problems.extend(check_service(manifest, contract, settings))
    return problems


def check_service(
    manifest: Manifest, contract: ServiceContract, settings: type[ServiceSettings] | None
) -> list[Problem]:
    workload = manifest.workload(contract.workload)
    if workload is None:
        return [manifest.problem(contract.workload, "no Deployment or StatefulSet runs this service")]
    container = next(iter(containers(workload)))
    where = f"{workload['kind']}/{contract.workload}"
    env = manifest.env(container)
    known = set(env_names(settings)) if settings else set(contract.brief_env)
    problems = [manifest.problem(where, message) for message in _command(container, contract)]
    files = manifest.mounted_files(pod_spec(workload), container)
    config_refs = _config_references(contract, env, files, settings)

    for name, var in sorted(env.items()):
        if name not in known and name not in config_refs:
            problems.append(manifest.problem(where, f"sets {name}, which {contract.module} never reads"))
        if SECRET_NAME.search(name) and var.source != "secret":
            problems.append(manifest.problem(where, f"{name} must come from a Secret, not a {var.source}"))
    for name in sorted(config_refs - set(env)):
        problems.append(manifest.problem(where, f"its config file reads env var {name}, which the pod does not set"))

    def value(name: str) -> str | None:
        if name in env:
            return env[name].value
        return str(default_env(settings, name)) if name in known and settings is not None else None

    contract_env = {*port_env(contract).values(), *contract.bind_host_env, *contract.config_files}
    for name in sorted(contract_env - known):
        problems.append(manifest.problem(where, f"{contract.module} no longer reads {name}: update deploy/contract.py"))

    problems += [manifest.problem(where, message) for message in _ports(container, contract, value)]
    problems += [manifest.problem(where, message) for message in _probes(container, contract, value)]
    problems += [manifest.problem(where, message) for message in _startup_budget(container, contract, value)]
    problems += [manifest.problem(where, message) for message in _scrape_annotations(workload, contract, value)]
    for name in contract.bind_host_env:
        if value(name) not in BIND_ALL:
            problems.append(
                manifest.problem(where, f"{name}={value(name)} listens only inside the pod: set it to 0.0.0.0")
            )
    problems += [manifest.problem(where, message) for message in _config_files(contract, env, files, value)]
    for name, var in sorted(env.items()):
        if name.endswith(FILE_SUFFIXES) and var.value and var.value not in files:
            problems.append(manifest.problem(where, f"{name}={var.value} is not a file of any mounted volume"))
    if settings is not None:
        problems += [manifest.problem(where, message) for message in _validate_settings(settings, env, files)]
    problems += _services(manifest, workload, container)
    return problems


def _command(container: dict[str, Any], contract: ServiceContract) -> Iterator[str]:
    argv = [*(container.get("command") or []), *(container.get("args") or [])]
    expected = ["python", "-m", contract.module]
    if argv != expected:
        yield f"runs {argv}, expected {expected}"


def _ports(container: dict[str, Any], contract: ServiceContract, value: Any) -> Iterator[str]:
    declared = {port.get("name"): port["containerPort"] for port in container.get("ports") or []}
    expected = port_env(contract)
    for port_name, env_name in expected.items():
        wanted = value(env_name)
        if port_name not in declared:
            yield f"declares no container port named {port_name!r} for {env_name}"
        elif wanted is None or str(declared[port_name]) != str(wanted):
            yield f"container port {port_name}={declared[port_name]} but {env_name}={wanted}"
        if str(wanted) == "0":
            yield f"{env_name}=0 picks a random port (or disables it): nothing could reach it"
    for port_name in declared.keys() - expected.keys():
        yield f"container port {port_name!r} matches no setting of {contract.module}"


def _scrape_annotations(workload: dict[str, Any], contract: ServiceContract, value: Any) -> Iterator[str]:
    """Prometheus scrapes every pod of the platform on METRICS_PORT."""
    annotations = workload["spec"]["template"]["metadata"].get("annotations") or {}
    scraped = annotations.get("prometheus.io/scrape") == "true"
    if not serves_metrics(contract):
        yield f"declares METRICS_PORT, but {contract.module} never calls setup_metrics: nothing serves /metrics"
    if not scraped:
        yield 'its pods lack prometheus.io/scrape: "true"'
    if scraped and annotations.get("prometheus.io/port") != str(value(METRICS_PORT_ENV)):
        yield f"prometheus.io/port={annotations.get('prometheus.io/port')} but METRICS_PORT={value(METRICS_PORT_ENV)}"


def _probes(container: dict[str, Any], contract: ServiceContract, value: Any) -> Iterator[str]:
    probe = contract.probe
    wanted = value(probe.port_env)
    for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
        spec = container.get(kind)
        if spec is None:
            if kind != "startupProbe":
                yield f"has no {kind}"
            continue
        handler = spec.get(probe.kind if probe.kind == "grpc" else "httpGet")
        if handler is None:
            yield f"{kind} must be a {probe.kind} probe"
            continue
        port = container_port(container, handler["port"])
        if port is None or str(port) != str(wanted):
            yield f"{kind} probes port {handler['port']} but {probe.port_env}={wanted}"
        if probe.kind == "grpc" and kind != "livenessProbe" and handler.get("service") != probe.service:
            yield f"{kind} asks health of {handler.get('service')!r}, expected {probe.service!r}"
        if probe.kind == "http":
            path = probe.readiness_path if kind == "readinessProbe" else probe.liveness_path
            if handler.get("path") != path:
                yield f"{kind} requests {handler.get('path')}, expected {path}"


def _startup_budget(container: dict[str, Any], contract: ServiceContract, value: Any) -> Iterator[str]:
    """A startup probe that gives up before the service itself does restarts a pod that was about to be ready."""
    if contract.startup_timeout_env is None or value(contract.startup_timeout_env) is None:
        return
    probe = container.get("startupProbe")
    if probe is None:
        yield f"has no startupProbe although it may take {contract.startup_timeout_env} to become ready"
        return
    budget = probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3) + probe.get("initialDelaySeconds", 0)
    timeout = float(value(contract.startup_timeout_env))
    if budget <= timeout:
        yield f"startupProbe gives up after {budget}s, before {contract.startup_timeout_env}={timeout:g}s"


def _config_references(
    contract: ServiceContract, env: dict[str, EnvVar], files: dict[str, str | None], settings: Any
) -> set[str]:
    """`${NAME}` references inside the service's mounted config files (filled from env at load time)."""
    names: set[str] = set()
    for env_name in contract.config_files:
        path = env[env_name].value if env_name in env else (str(default_env(settings, env_name)) if settings else None)
        content = files.get(path or "")
        if content:
            names.update(_references(content))
    return names


def _references(content: str) -> set[str]:
    """Env vars a config file makes the service read: `${NAME}` in any value (the social gateway), and the value of
    any key ending in `_env` (the email gateway's IMAP `password_env`). Comments do not count."""
    try:
        document = yaml.safe_load(content)
    except yaml.YAMLError:
        return set()
    found: set[str] = set()
    pending = [document]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            found.update(ENV_REFERENCE.findall(item))
        elif isinstance(item, dict):
            pending.extend([*item.keys(), *item.values()])
            found.update(v for k, v in item.items() if str(k).endswith("_env") and isinstance(v, str) and v)
        elif isinstance(item, list):
            pending.extend(item)
    return found


def _config_files(
    contract: ServiceContract, env: dict[str, EnvVar], files: dict[str, str | None], value: Any
) -> Iterator[str]:
    for env_name, loader in contract.config_files.items():
        path = value(env_name)
        if path not in files:
            yield f"{env_name}={path} is not a file of any mounted ConfigMap"
            continue
        content = files[path]
        if content is None:
            continue
        placeholders = {name: "placeholder-value" for name in _references(content)}
        known = {name: var.value for name, var in env.items() if var.value}
        try:
            with tempfile.TemporaryDirectory() as directory, _environment({**placeholders, **known}):
                file = Path(directory) / Path(path).name
                file.write_text(content, encoding="utf-8")
                load_with(loader)(file)
        except (Exception, SystemExit) as error:
            yield f"{env_name}: the service's own loader rejects {path}: {error}"


def _validate_settings(
    settings: type[ServiceSettings], env: dict[str, EnvVar], files: dict[str, str | None]
) -> Iterator[str]:
    names = env_names(settings)
    values: dict[str, str] = {}
    for name, var in env.items():
        if name not in names:
            continue
        if var.value is not None:
            values[name] = var.value
        elif var.source == "secret" and name in PRESENCE_CHECKED_SECRETS:
            # A Secret made by operators (or Strimzi): its value is unknown here, but the reference is there.
            values[name] = "from-a-secret"
    with tempfile.TemporaryDirectory() as scratch:
        # A path into a mounted volume exists in the pod: a file stands in for it, so the model's checks run.
        for name, value in list(values.items()):
            if value in files:
                stand_in = Path(scratch) / name
                stand_in.write_text(files[value] or "", encoding="utf-8")
                values[name] = str(stand_in)
        try:
            isolated_settings(settings, values)
        except ValidationError as error:
            for problem in error.errors():
                variable = "_".join(str(part) for part in problem["loc"]).upper() or "<settings>"
                yield f"{settings.__name__} rejects {variable}: {problem['msg']}"


def _services(manifest: Manifest, workload: dict[str, Any], container: dict[str, Any]) -> list[Problem]:
    labels = pod_labels(workload)
    problems = []
    for service in manifest.of_kind("Service"):
        selector = service["spec"].get("selector") or {}
        if not selector or any(labels.get(key) != value for key, value in selector.items()):
            continue
        for port in service["spec"].get("ports") or []:
            target = port.get("targetPort", port["port"])
            if container_port(container, target) is None:
                problems.append(manifest.problem(service, f"targetPort {target} is no port of {workload['kind']}"))
    return problems


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
