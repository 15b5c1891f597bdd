"""skillsctl over TLS and mTLS to a service started with GRPC_TLS_* settings."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from support.pki import write_pki

from services.skills.cli.commands import EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE, run

from ..service import ADMIN_TOKEN, RunningSkills, skills_process

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def mtls_skills(profiles_topic: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningSkills, Path]]:
    pki = tmp_path_factory.mktemp("pki")
    write_pki(pki, "server", "operator")
    service = skills_process(
        tmp_path_factory.mktemp("tls"),
        profiles_topic,
        GRPC_TLS_CERT_FILE=str(pki / "server.crt"),
        GRPC_TLS_KEY_FILE=str(pki / "server.key"),
        GRPC_TLS_CLIENT_CA_FILE=str(pki / "ca.crt"),
    )
    service.process.start()
    credentials = grpc.ssl_channel_credentials(
        (pki / "ca.crt").read_bytes(), (pki / "operator.key").read_bytes(), (pki / "operator.crt").read_bytes()
    )
    deadline = time.monotonic() + 30
    with grpc.secure_channel(f"localhost:{service.port}", credentials) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while True:
            try:
                health.Check(health_pb2.HealthCheckRequest(service="contactrouting.v1.SkillsAdmin"), timeout=1)
                break
            except grpc.RpcError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"skills over mTLS not ready\n{service.process.log_tail()}") from None
                time.sleep(0.1)
    yield service, pki
    service.stop()


def ctl(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(["--token", ADMIN_TOKEN, "--timeout", "5", *args], out, err)
    return code, out.getvalue(), err.getvalue()


def test_skillsctl_speaks_mtls_with_a_client_certificate(mtls_skills: tuple[RunningSkills, Path]) -> None:
    service, pki = mtls_skills
    target = f"localhost:{service.port}"
    tls = [
        "--ca-file",
        str(pki / "ca.crt"),
        "--cert-file",
        str(pki / "operator.crt"),
        "--key-file",
        str(pki / "operator.key"),
    ]
    code, out, err = ctl("--target", target, *tls, "skills", "list")
    assert code == EXIT_OK, err
    assert out.startswith("NAME")

    code, _, err = ctl("--target", target, "--ca-file", str(pki / "ca.crt"), "skills", "list")
    assert code == EXIT_UNAVAILABLE, "the service requires a client certificate"
    code, _, err = ctl("--target", target, "skills", "list")
    assert code == EXIT_UNAVAILABLE, "plaintext must not reach a TLS service"


def test_tls_options_must_be_complete(tmp_path: Path) -> None:
    assert ctl("--cert-file", "a.crt", "skills", "list")[0] == EXIT_USAGE
    assert ctl("--cert-file", "a.crt", "--key-file", "a.key", "skills", "list")[0] == EXIT_USAGE
    code, _, err = ctl("--ca-file", str(tmp_path / "missing.crt"), "skills", "list")
    assert code == EXIT_USAGE
    assert "missing.crt" in err
