"""gRPC servers over TLS and mTLS with generated certificates, checked through the standard health service."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from support.pki import write_pki

from contactrouting.config import ServiceSettings
from contactrouting.grpc_runtime import ServerTls, build_grpc_server, traced_channel
from devstack.ports import free_port


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pki")
    write_pki(directory, "server", "agent")
    return directory


def _health(channel: grpc.Channel) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    return int(stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5).status)


def _serve(tls: ServerTls) -> tuple[grpc.Server, str]:
    port = free_port()
    server, _ = build_grpc_server(f"127.0.0.1:{port}", [], [], tls=tls)
    server.start()
    return server, f"localhost:{port}"


def test_tls_server_answers_health_checks_to_a_client_trusting_its_ca(pki: Path) -> None:
    server, target = _serve(ServerTls(pki / "server.crt", pki / "server.key"))
    try:
        with traced_channel(target, ca_file=pki / "ca.crt") as channel:
            assert _health(channel) == health_pb2.HealthCheckResponse.SERVING
    finally:
        server.stop(0)


def test_mtls_server_refuses_a_client_without_a_certificate(pki: Path) -> None:
    server, target = _serve(ServerTls(pki / "server.crt", pki / "server.key", pki / "ca.crt"))
    try:
        with traced_channel(target, ca_file=pki / "ca.crt") as anonymous, pytest.raises(grpc.RpcError):
            _health(anonymous)
        with traced_channel(
            target, ca_file=pki / "ca.crt", cert_file=pki / "agent.crt", key_file=pki / "agent.key"
        ) as agent:
            assert _health(agent) == health_pb2.HealthCheckResponse.SERVING
    finally:
        server.stop(0)


def test_tls_settings_come_from_env_and_must_be_complete(pki: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRPC_TLS_CERT_FILE", str(pki / "server.crt"))
    monkeypatch.setenv("GRPC_TLS_KEY_FILE", str(pki / "server.key"))
    monkeypatch.setenv("GRPC_TLS_CLIENT_CA_FILE", str(pki / "ca.crt"))
    assert ServerTls.from_settings(ServiceSettings()) == ServerTls(
        pki / "server.crt", pki / "server.key", pki / "ca.crt"
    )
    monkeypatch.delenv("GRPC_TLS_KEY_FILE")
    with pytest.raises(ValueError, match="must be set together"):
        ServiceSettings()
