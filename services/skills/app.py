"""The skills service built from its settings: database, outbox relay and the SkillsAdmin gRPC server."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import grpc
import sqlalchemy as sa
from grpc_health.v1 import health

from contactrouting.grpc_runtime import ServerTls, build_grpc_server
from contactrouting.kafka_io import ProtoProducer
from contactrouting.metrics import OUTBOX_PENDING
from contactrouting.topics import AGENTS_PROFILES
from services.skills.adapters.agent_store import AgentStore
from services.skills.adapters.catalog_store import queue_store, skill_store
from services.skills.adapters.database import create_engine
from services.skills.adapters.grpc_auth import TokenAuthority
from services.skills.adapters.grpc_servicer import SERVICE_NAME, SkillsAdminServicer
from services.skills.adapters.migrations import migrate
from services.skills.adapters.outbox_relay import OutboxRelay, OutboxStore, RelayTuning
from services.skills.adapters.relay_lease import RelayLease
from services.skills.settings import SkillsSettings


@dataclass
class SkillsService:
    engine: sa.Engine
    relay: OutboxRelay
    server: grpc.Server
    health: health.HealthServicer
    address: str

    def start(self) -> None:
        self.relay.start()
        self.server.start()

    def shutdown(self, grace_s: float = 5.0) -> None:
        """Stop taking calls, let running ones finish, publish what is pending, then close the database."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace_s).wait()
        self.relay.stop(timeout_s=grace_s)
        self.engine.dispose()


def build_service(settings: SkillsSettings) -> SkillsService:
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.resolved_database_url())
    migrate(engine)
    store = OutboxStore(engine)
    # Read at scrape time: one indexed count, so the gauge is right even while another instance holds the lease.
    OUTBOX_PENDING.observe_with(lambda: [(store.pending(), {"topic": AGENTS_PROFILES})])
    relay = OutboxRelay(
        store,
        lambda: ProtoProducer(
            settings,
            client_id="skills-outbox",
            # Fail fast and reconnect often while the broker is away: the outbox holds the changes meanwhile.
            bootstrap_timeout_ms=settings.outbox_publish_timeout_ms,
            max_block_ms=settings.outbox_publish_timeout_ms,
            reconnect_backoff_max_ms=1000,
            delivery_timeout_ms=settings.outbox_delivery_timeout_ms,
        ),
        RelayTuning(
            batch_size=settings.outbox_batch_size,
            poll_interval_s=settings.outbox_poll_interval_ms / 1000,
            publish_timeout_s=settings.outbox_publish_timeout_ms / 1000,
            retention=timedelta(hours=settings.outbox_retention_hours),
        ),
        RelayLease(engine),
    )
    servicer = SkillsAdminServicer(
        AgentStore(engine, on_change=relay.wake),
        skill_store(engine),
        queue_store(engine),
        TokenAuthority(settings.skills_admin_token, settings.skills_read_token),
    )
    address = f"{settings.skills_grpc_host}:{settings.skills_grpc_port}"
    server, health_servicer = build_grpc_server(
        address, [servicer.register], [SERVICE_NAME], tls=ServerTls.from_settings(settings)
    )
    return SkillsService(engine, relay, server, health_servicer, address)
