"""The router's gRPC server on asyncio: every agent stream is a coroutine on one event-loop thread.

The sync server held two threads per agent stream (1,000 for 500 agents), and every message crossed threads
twice; those hand-offs, not the routing, were most of the router's CPU. Health checks, which are not
coroutines, run on a small thread pool.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Sequence
from concurrent import futures
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import aio_server_interceptor, filters

from contactrouting.grpc_runtime import ServerTls
from services.router.adapters.malformed_requests import MalformedRequestsRefused

T = TypeVar("T")
AioRegistration = Callable[[grpc.aio.Server], None]
# Threads for the handlers that are not coroutines (health checks), never agent streams.
SYNC_HANDLER_THREADS = 8


class DeskServer:
    """An asyncio gRPC server with health checking and reflection, on an event loop of its own thread; the
    methods are called from other threads."""

    def __init__(
        self,
        address: str,
        registrations: Sequence[AioRegistration],
        service_names: Sequence[str],
        max_concurrent_rpcs: int,
        tls: ServerTls | None = None,
    ) -> None:
        self.address = address
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="desk-loop", daemon=True)
        self._sync_pool = futures.ThreadPoolExecutor(SYNC_HANDLER_THREADS, thread_name_prefix="grpc-sync")
        self._health = health.HealthServicer()
        self._server = self._call(self._build(registrations, service_names, max_concurrent_rpcs, tls))

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def start(self) -> None:
        self._call(self._server.start())

    def set_health(self, name: str, status: health_pb2.HealthCheckResponse.ServingStatus.ValueType) -> None:
        self._health.set(name, status)  # the sync servicer: thread-safe, answers Watch from its own threads

    def stop(self, grace_s: float, timeout_s: float) -> None:
        """Ends the streams still open after `grace_s`, then the event loop."""
        if not self._thread.is_alive():
            return
        try:
            self._call(self._server.stop(grace_s), timeout_s)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout_s)
            self._sync_pool.shutdown(wait=False, cancel_futures=True)

    async def _build(
        self,
        registrations: Sequence[AioRegistration],
        service_names: Sequence[str],
        max_concurrent_rpcs: int,
        tls: ServerTls | None,
    ) -> grpc.aio.Server:
        server = grpc.aio.server(
            migration_thread_pool=self._sync_pool,
            # Our services' calls are SERVER spans; health checks and reflection are not worth one.
            interceptors=[
                MalformedRequestsRefused(),
                aio_server_interceptor(filter_=filters.service_prefix("contactrouting.")),
            ],
            options=[("grpc.so_reuseport", 0)],
            maximum_concurrent_rpcs=max_concurrent_rpcs,
        )
        for register in registrations:
            register(server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        for name in ("", *service_names):
            self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        reflection.enable_server_reflection([*service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
        address = self.address
        bound = server.add_secure_port(address, tls.credentials()) if tls else server.add_insecure_port(address)
        if bound == 0:
            raise RuntimeError(f"cannot bind gRPC server to {address}")
        return server

    def _call(self, coroutine: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        if not self._thread.is_alive():
            self._thread.start()
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout_s)
