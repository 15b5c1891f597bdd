"""gRPC servers and channels with health checking, reflection and trace propagation in metadata."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import client_interceptor, server_interceptor
from opentelemetry.instrumentation.grpc.grpcext import intercept_channel

from contactrouting.config import ServiceSettings

ServicerRegistration = Callable[[grpc.Server], None]


@dataclass(frozen=True)
class ServerTls:
    """Server certificate, plus a client CA when agents must present certificates (mTLS)."""

    cert_file: Path
    key_file: Path
    client_ca_file: Path | None = None

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> ServerTls | None:
        if settings.grpc_tls_cert_file is None or settings.grpc_tls_key_file is None:
            return None
        return cls(settings.grpc_tls_cert_file, settings.grpc_tls_key_file, settings.grpc_tls_client_ca_file)

    def credentials(self) -> grpc.ServerCredentials:
        client_ca = self.client_ca_file.read_bytes() if self.client_ca_file else None
        return grpc.ssl_server_credentials(
            [(self.key_file.read_bytes(), self.cert_file.read_bytes())],
            root_certificates=client_ca,
            require_client_auth=client_ca is not None,
        )


def build_grpc_server(
    address: str,
    registrations: Sequence[ServicerRegistration],
    service_names: Sequence[str],
    max_workers: int = 64,
    tls: ServerTls | None = None,
) -> tuple[grpc.Server, health.HealthServicer]:
    """A server serving the given services plus grpc.health.v1 and reflection; call start() on it."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers),
        interceptors=[server_interceptor()],
        options=[("grpc.so_reuseport", 0)],
    )
    for register in registrations:
        register(server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in service_names:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection([*service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
    bound = server.add_secure_port(address, tls.credentials()) if tls else server.add_insecure_port(address)
    if bound == 0:
        raise RuntimeError(f"cannot bind gRPC server to {address}")
    return server, health_servicer


def traced_channel(
    target: str,
    ca_file: Path | None = None,
    cert_file: Path | None = None,
    key_file: Path | None = None,
) -> grpc.Channel:
    """A client channel with trace context in metadata; TLS when a CA is given, mTLS with a client cert too."""
    if ca_file is None:
        channel = grpc.insecure_channel(target)
    else:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=ca_file.read_bytes(),
            private_key=key_file.read_bytes() if key_file else None,
            certificate_chain=cert_file.read_bytes() if cert_file else None,
        )
        channel = grpc.secure_channel(target, credentials)
    return intercept_channel(channel, client_interceptor())
