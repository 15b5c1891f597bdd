"""Each service started as its pod would start it: the rendered container's command, env and mounted config files,
probed the way the kubelet probes it. Only what cannot exist on this machine is replaced: cluster DNS names (broker,
relay, collector, database), the fixed ports (free ones instead) and the pod's writable paths."""

from __future__ import annotations

import copy
import datetime
import os
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from contactrouting.topics import ensure_topics
from deploy.contract import CONTRACTS, METRICS_PORT_ENV, ServiceContract, port_env
from deploy.manifest import Manifest
from devstack.ports import free_port, wait_for_port
from devstack.readiness import wait_for_grpc_health, wait_for_http_ok

from .conftest import Objects, container

READY_TIMEOUT_S = 60.0
# Operators create these in prod; a stand-in of the right shape lets the pod start here.
SECRET_STAND_IN = "stand-in-secret-0123456789"
# Names in the manifests that only resolve inside the cluster.
# Without their database URLs the services fall back to SQLite under DATA_DIR.
CLUSTER_ONLY = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "DATABASE_URL",
    "SOCIAL_GATEWAY_DATABASE_URL",
    "EMAIL_GATEWAY_DATABASE_URL",
)
# The Strimzi listener's TLS (cluster CA) and SCRAM users exist only in the cluster, and the local tansu cannot log
# SCRAM users in: the pods reach the test broker in plaintext. tests/contactrouting/test_kafka_security.py covers
# the clients over TLS and SCRAM; tests/deploy/test_kafka_security.py the manifests' side.
KAFKA_SECURITY = (
    "KAFKA_SECURITY_PROTOCOL",
    "KAFKA_SSL_CAFILE",
    "KAFKA_SASL_MECHANISM",
    "KAFKA_SASL_USERNAME",
    "KAFKA_SASL_PASSWORD",
)


def _self_signed() -> dict[str, str]:
    """A certificate and key standing in for an operator-made kubernetes.io/tls Secret."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mx.example.com")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return {
        "tls.crt": certificate.public_bytes(serialization.Encoding.PEM).decode(),
        "tls.key": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    }


TLS_STAND_IN = _self_signed()


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
        if name not in CLUSTER_ONLY and name not in KAFKA_SECURITY
    }
    # Mounted ConfigMap files land under root, and every setting naming one follows it there.
    for path, content in manifest.mounted_files(spec, pod_container).items():
        local = root / path.lstrip("/")
        local.parent.mkdir(parents=True, exist_ok=True)
        if content is None and local.name in TLS_STAND_IN:
            content = TLS_STAND_IN[local.name]
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
    ensure_topics(kafka_bootstrap, partitions=3, replication_factor=1)
    return kafka_bootstrap


@dataclass
class Pod:
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    ports: dict[str, int]
    log: Path


@pytest.fixture(scope="module", params=["dev", "prod"])
def pods(
    request: pytest.FixtureRequest, rendered: dict[str, Objects], topics: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, Pod]]]:
    """Every service of one overlay, started at once (as a rollout would) and stopped with SIGTERM afterwards."""
    overlay: str = request.param
    manifest = Manifest(overlay, copy.deepcopy(rendered[overlay]))
    started: dict[str, Pod] = {}
    try:
        for contract in CONTRACTS:
            root = tmp_path_factory.mktemp(f"{overlay}-{contract.workload}")
            env, ports = pod_environment(manifest, contract, root / "pod", topics)
            command = container(manifest, contract.workload)["command"]
            assert command[0] == "python", command
            log = root / "pod.log"
            with log.open("ab") as output:
                # The working directory is empty, like the image's: a relative default path would not resolve.
                process = subprocess.Popen(
                    [sys.executable, *command[1:]], cwd=root, env=env, stdout=output, stderr=subprocess.STDOUT
                )
            started[contract.workload] = Pod(process, env, ports, log)
        yield overlay, started
    finally:
        for pod in started.values():
            pod.process.terminate()
        for pod in started.values():
            try:
                pod.process.wait(15)
            except subprocess.TimeoutExpired:
                pod.process.kill()
                pod.process.wait()


@pytest.mark.integration
@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda contract: contract.workload)
def test_the_pod_starts_and_passes_its_probes(pods: tuple[str, dict[str, Pod]], contract: ServiceContract) -> None:
    overlay, started = pods
    pod = started[contract.workload]
    probe = contract.probe
    port = pod.ports[probe.port_env]
    try:
        if probe.kind == "grpc":
            wait_for_grpc_health(f"127.0.0.1:{port}", probe.service or "", READY_TIMEOUT_S)
            wait_for_grpc_health(f"127.0.0.1:{port}", "", 5.0)  # the liveness probe's service
        else:
            wait_for_http_ok(f"http://127.0.0.1:{port}{probe.readiness_path}", READY_TIMEOUT_S)
            wait_for_http_ok(f"http://127.0.0.1:{port}{probe.liveness_path}", 5.0)
        for name, other in pod.ports.items():
            if name == METRICS_PORT_ENV:
                wait_for_http_ok(f"http://127.0.0.1:{other}/metrics", 5.0)
            else:
                wait_for_port(other, 5.0)
    except TimeoutError as error:
        log = pod.log.read_text(errors="replace")[-3000:]
        pytest.fail(f"{contract.workload} ({overlay}) did not pass its probes: {error}\n{log}")
    assert pod.process.poll() is None
    if pod.env.get("SMTP_TLS_CERT_FILE"):
        # The certificate from the mounted Secret is loaded: mail servers are offered STARTTLS.
        with smtplib.SMTP("127.0.0.1", pod.ports["SMTP_PORT"], timeout=5) as smtp:
            smtp.ehlo("probe.example.com")
            assert smtp.has_extn("starttls")
