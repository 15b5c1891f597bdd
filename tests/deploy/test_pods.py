"""Each service started as its pod would start it: the rendered container's command, env and mounted config files,
probed the way the kubelet probes it. Only what cannot exist on this machine is replaced: cluster DNS names (broker,
relay, collector, database), the fixed ports (free ones instead) and the pod's writable paths."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from deploy.contract import CONTRACTS, METRICS_PORT_ENV, ServiceContract, port_env, serves_metrics
from deploy.manifest import Manifest
from devstack.ports import free_port, wait_for_port
from devstack.readiness import wait_for_grpc_health, wait_for_http_ok

from .conftest import container

ManifestOf = Callable[[str], Manifest]
READY_TIMEOUT_S = 60.0
# Operators create these in prod; a stand-in of the right shape lets the pod start here.
SECRET_STAND_IN = "stand-in-secret-0123456789"
# Names in the manifests that only resolve inside the cluster.
CLUSTER_ONLY = ("OTEL_EXPORTER_OTLP_ENDPOINT", "DATABASE_URL")


def pod_environment(
    manifest: Manifest, contract: ServiceContract, root: Path, kafka_bootstrap: str
) -> tuple[dict[str, str], dict[str, int]]:
    workload = manifest.workload(contract.workload)
    assert workload is not None
    spec = workload["spec"]["template"]["spec"]
    pod_container = container(manifest, contract.workload)
    env = {
        name: SECRET_STAND_IN if var.value is None else var.value
        for name, var in manifest.env(pod_container).items()
        if name not in CLUSTER_ONLY
    }
    # Mounted ConfigMap files land under root, and every setting naming one follows it there.
    for path, content in manifest.mounted_files(spec, pod_container).items():
        local = root / path.lstrip("/")
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_text(content or "", encoding="utf-8")
        env = {name: str(local) if value == path else value for name, value in env.items()}
    ports = {name: free_port() for name in port_env(contract).values()}
    env.update({name: str(port) for name, port in ports.items()})
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        DATA_DIR=str(root / "data"),
        TRACE_DIR=str(root / "traces"),
        SMTP_RELAY_HOST="127.0.0.1",
        PATH=os.environ["PATH"],
        PYTHONPATH=os.environ.get("PYTHONPATH", ""),
        PYTHONUNBUFFERED="1",
    )
    return env, ports


@pytest.fixture(scope="module")
def topics(kafka_bootstrap: str) -> str:
    from contactrouting.topics import ensure_topics

    ensure_topics(kafka_bootstrap, partitions=3, replication_factor=1)
    return kafka_bootstrap


@pytest.fixture
def start_pod(tmp_path: Path) -> Iterator[Callable[[list[str], dict[str, str]], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (tmp_path / "pod.log").open("ab")
        # The working directory is empty, like the image's: a relative default path would not resolve.
        process = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.integration
@pytest.mark.parametrize("overlay", ["dev", "prod"])
@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda contract: contract.workload)
def test_the_pod_starts_and_passes_its_probes(
    manifest_of: ManifestOf,
    topics: str,
    start_pod: Callable[[list[str], dict[str, str]], subprocess.Popen[bytes]],
    tmp_path: Path,
    overlay: str,
    contract: ServiceContract,
) -> None:
    manifest = manifest_of(overlay)
    env, ports = pod_environment(manifest, contract, tmp_path / "pod", topics)
    command = container(manifest, contract.workload)["command"]
    assert command[0] == "python"
    process = start_pod([sys.executable, *command[1:]], env)
    probe = contract.probe
    port = ports[probe.port_env]
    try:
        if probe.kind == "grpc":
            wait_for_grpc_health(f"127.0.0.1:{port}", probe.service or "", READY_TIMEOUT_S)
            wait_for_grpc_health(f"127.0.0.1:{port}", "", 5.0)  # the liveness probe's service
        else:
            wait_for_http_ok(f"http://127.0.0.1:{port}{probe.readiness_path}", READY_TIMEOUT_S)
            wait_for_http_ok(f"http://127.0.0.1:{port}{probe.liveness_path}", 5.0)
        for name, other in ports.items():
            if name != METRICS_PORT_ENV:
                wait_for_port(other, 5.0)
            elif serves_metrics(contract):
                wait_for_http_ok(f"http://127.0.0.1:{other}/metrics", 5.0)
    except TimeoutError as error:
        log = (tmp_path / "pod.log").read_text(errors="replace")[-3000:]
        pytest.fail(f"{contract.workload} ({overlay}) did not pass its probes: {error}\n{log}")
    assert process.poll() is None
