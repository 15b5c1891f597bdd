"""gRPC servers and channels with health checking, reflection and trace propagation in metadata."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import client_interceptor, server_interceptor

ServicerRegistration = Callable[[grpc.Server], None]


def build_grpc_server(
    address: str,
    registrations: Sequence[ServicerRegistration],
    service_names: Sequence[str],
    max_workers: int = 64,
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
    if server.add_insecure_port(address) == 0:
        raise RuntimeError(f"cannot bind gRPC server to {address}")
    return server, health_servicer


def traced_channel(target: str) -> grpc.Channel:
    return grpc.intercept_channel(grpc.insecure_channel(target), client_interceptor())
