"""What each service reads and serves, taken from the services themselves wherever they define it.

The settings class is found by importing the service's composition root (and its settings module) and picking the
`ServiceSettings` subclass defined inside the service's package, so a new field, a renamed variable or a changed
default port shows up here without editing this file. What code cannot tell (which setting is a bind address,
which port a probe must hit) is stated once below, per service.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

from contactrouting.config import ServiceSettings

ConfigLoader = Callable[[Path], object]


@dataclass(frozen=True)
class Probe:
    kind: str  # grpc | http
    port_env: str  # the setting whose value the probe's port must equal
    service: str | None = None  # grpc.health.v1 service name
    readiness_path: str | None = None
    liveness_path: str | None = None


@dataclass(frozen=True)
class ServiceContract:
    workload: str  # Deployment or StatefulSet name
    module: str  # python -m <module>
    settings_modules: tuple[str, ...]  # imported in order to find the settings class
    bind_host_env: tuple[str, ...]  # must be 0.0.0.0 in a pod, or nothing outside the pod reaches it
    port_env: dict[str, str]  # container port name -> the setting that picks that port ("metrics" comes below)
    probe: Probe
    config_files: dict[str, str]  # setting naming a YAML file -> "module:loader" that validates it
    # The setting bounding how long the service may take to become ready; the startup probe must wait longer.
    startup_timeout_env: str | None = None
    # Env names from the team brief, used only while the service has not defined its settings yet.
    brief_env: frozenset[str] = frozenset()


COMMON_BRIEF_ENV = frozenset(
    {"KAFKA_BOOTSTRAP_SERVERS", "LOG_LEVEL", "LOG_FORMAT", "OTEL_EXPORTER_OTLP_ENDPOINT", "TRACE_DIR", "DATA_DIR"}
    | {"METRICS_PORT"}
)

CONTRACTS: tuple[ServiceContract, ...] = (
    ServiceContract(
        workload="skills",
        module="services.skills",
        settings_modules=("services.skills.app", "services.skills.settings", "services.skills.config"),
        bind_host_env=("SKILLS_GRPC_HOST",),
        port_env={"grpc": "SKILLS_GRPC_PORT"},
        probe=Probe("grpc", "SKILLS_GRPC_PORT", service="contactrouting.v1.SkillsAdmin"),
        config_files={},
        brief_env=COMMON_BRIEF_ENV | {"SKILLS_GRPC_PORT", "DATABASE_URL", "SKILLS_ADMIN_TOKEN", "SKILLS_READ_TOKEN"},
    ),
    ServiceContract(
        workload="router",
        module="services.router",
        settings_modules=("services.router.app", "services.router.settings"),
        bind_host_env=("ROUTER_GRPC_HOST",),
        port_env={"grpc": "ROUTER_GRPC_PORT"},
        probe=Probe("grpc", "ROUTER_GRPC_PORT", service="contactrouting.v1.AgentDesk"),
        config_files={"ROUTING_POLICY_FILE": "services.router.domain.policy:load_policy"},
        startup_timeout_env="ROUTER_STARTUP_TIMEOUT_S",
        brief_env=COMMON_BRIEF_ENV | {"ROUTER_GRPC_PORT", "ROUTING_POLICY_FILE"},
    ),
    ServiceContract(
        workload="email-gateway",
        module="services.email_gateway",
        settings_modules=("services.email_gateway.app", "services.email_gateway.config"),
        bind_host_env=("SMTP_HOST",),
        port_env={"smtp": "SMTP_PORT", "health": "EMAIL_HEALTH_PORT"},
        probe=Probe("http", "EMAIL_HEALTH_PORT", readiness_path="/readyz", liveness_path="/healthz"),
        config_files={"EMAIL_GATEWAY_CONFIG": "services.email_gateway.config:load_gateway_config"},
        brief_env=COMMON_BRIEF_ENV
        | {"SMTP_HOST", "SMTP_PORT", "EMAIL_HEALTH_PORT", "EMAIL_GATEWAY_CONFIG", "SMTP_RELAY_HOST", "SMTP_RELAY_PORT"},
    ),
    ServiceContract(
        workload="social-gateway",
        module="services.social_gateway",
        settings_modules=("services.social_gateway.app", "services.social_gateway.settings"),
        bind_host_env=("WEBHOOK_HOST",),
        port_env={"http": "WEBHOOK_PORT"},
        probe=Probe("http", "WEBHOOK_PORT", readiness_path="/readyz", liveness_path="/healthz"),
        config_files={"SOCIAL_GATEWAY_CONFIG": "services.social_gateway.settings:load_config"},
        brief_env=COMMON_BRIEF_ENV | {"WEBHOOK_HOST", "WEBHOOK_PORT", "SOCIAL_GATEWAY_CONFIG", "DEMO_MODE"},
    ),
)


SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"
METRICS_PORT_NAME = "metrics"
METRICS_PORT_ENV = "METRICS_PORT"


def serves_metrics(contract: ServiceContract, services_dir: Path = SERVICES_DIR) -> bool:
    """Whether the service starts the Prometheus endpoint (calls contactrouting.metrics.setup_metrics)."""
    package = services_dir / contract.module.split(".", 1)[1]
    for path in package.rglob("*.py"):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError:
            continue  # a file being edited; ruff and the service's own tests report it
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name == "setup_metrics":
                    return True
    return False


def port_env(contract: ServiceContract) -> dict[str, str]:
    """Container port name -> setting; METRICS_PORT is part of every service's contract."""
    return {**contract.port_env, METRICS_PORT_NAME: METRICS_PORT_ENV}


def settings_class(contract: ServiceContract) -> type[ServiceSettings] | None:
    """The service's own ServiceSettings subclass, or None while the service does not define one yet."""
    package = contract.module
    for module_name in contract.settings_modules:
        try:
            importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            # Only a missing candidate module is expected; a broken import inside the service is a real failure.
            if error.name is None or not module_name.startswith(error.name):
                raise
    # Only the service's settings modules count: a console script in the package (e.g. the router's `report`)
    # may have settings of its own that the service's pods never read.
    found = [cls for cls in _subclasses(ServiceSettings) if cls.__module__ in contract.settings_modules]
    # The most derived class wins when a service subclasses its own settings.
    leaves = [cls for cls in found if not any(other is not cls and issubclass(other, cls) for other in found)]
    if len(leaves) > 1:
        names = ", ".join(sorted(f"{cls.__module__}.{cls.__qualname__}" for cls in leaves))
        raise LookupError(f"{package} defines several settings classes: {names}")
    return leaves[0] if leaves else None


def _subclasses(cls: type[ServiceSettings]) -> list[type[ServiceSettings]]:
    result = []
    for sub in cls.__subclasses__():
        result.extend([sub, *_subclasses(sub)])
    return result


def env_names(settings: type[ServiceSettings]) -> dict[str, FieldInfo]:
    """Env var name -> field, as pydantic-settings reads them (no prefix, case-insensitive, aliases honoured)."""
    prefix = str(settings.model_config.get("env_prefix", "")).upper()
    names: dict[str, FieldInfo] = {}
    for field_name, info in settings.model_fields.items():
        alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
        names[(alias or prefix + field_name).upper()] = info
    return names


def default_env(settings: type[ServiceSettings], name: str) -> Any:
    return env_names(settings)[name].get_default(call_default_factory=True)


def load_with(loader: str) -> ConfigLoader:
    module_name, _, function = loader.partition(":")
    loaded: ConfigLoader = getattr(importlib.import_module(module_name), function)
    return loaded


def isolated_settings(settings: type[ServiceSettings], env: dict[str, str]) -> ServiceSettings:
    """Validate an environment with the service's own model, reading nothing from this process's environment."""

    class FromManifest(settings):  # type: ignore[valid-type,misc]
        @classmethod
        def settings_customise_sources(cls, settings_cls: Any, init_settings: Any, *_: Any, **__: Any) -> tuple[Any]:
            return (init_settings,)

    by_field = {name.lower(): value for name, value in env.items()}
    return FromManifest(**by_field)  # type: ignore[no-any-return]
