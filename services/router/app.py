"""The router's composition root: builds the engine and its adapters from settings, and runs them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import structlog
from grpc_health.v1 import health_pb2
from pydantic import Field, field_validator

from contactrouting.agent_tokens import MIN_SECRET_BYTES
from contactrouting.config import DEFAULT_ROUTER_GRPC_PORT, ServiceSettings
from contactrouting.grpc_runtime import ServerTls
from contactrouting.kafka_io import ProtoProducer
from contactrouting.v1 import agent_desk_pb2_grpc
from services.router.adapters import grpc_agent_desk, grpc_routing_admin
from services.router.adapters.agent_authentication import AgentAuthenticator
from services.router.adapters.agent_profile_table import AgentProfileTable
from services.router.adapters.contact_intake import ContactIntake
from services.router.adapters.desk_server import DeskServer
from services.router.adapters.feedback_intake import FeedbackIntake
from services.router.adapters.kafka_publisher import RouterPublisher
from services.router.adapters.recovery import RoutingEventsReader, restore
from services.router.adapters.routing_clock import PolicyWatch, RoutingClock
from services.router.adapters.service_history import DAY_S, ServiceHistory
from services.router.adapters.survey_dispatch import SurveyDispatch
from services.router.adapters.switchboard import Switchboard
from services.router.domain import RoutingEngine, load_policy

log = structlog.get_logger()

NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVING = health_pb2.HealthCheckResponse.SERVING


class RouterSettings(ServiceSettings):
    router_grpc_host: str = "0.0.0.0"
    router_grpc_port: int = Field(default=DEFAULT_ROUTER_GRPC_PORT, ge=0, le=65535)
    routing_policy_file: Path = Path("config/routing_policy.yaml")
    router_tick_interval_s: float = Field(default=0.2, gt=0, le=5)
    router_policy_check_interval_s: float = Field(default=1.0, gt=0)
    # Concurrent gRPC calls, agent streams included; more are refused with RESOURCE_EXHAUSTED.
    router_max_agent_streams: int = Field(default=512, ge=8)
    # How long the producer gathers records into one request. Offers go to agents without waiting for an ack, so
    # this delays only commits and assignments; fewer, fuller requests save the router's client much CPU.
    router_producer_linger_ms: int = Field(default=10, ge=0, le=1000)
    router_startup_timeout_s: float = Field(default=120.0, gt=0)
    # Secret that agent login tokens are signed with (`skillsctl agents token`); empty accepts any login.
    agent_token_secret: str = Field(default="", repr=False)
    # Bearer token RoutingAdmin callers must present; empty leaves the read-only admin API open.
    router_admin_token: str = Field(default="", repr=False)
    # Secret that survey tickets are signed with (the social gateway verifies answers with it); empty: no surveys.
    feedback_token_secret: str = Field(default="", repr=False)
    # Service reports (GetServiceReport, the service.* gauges): how much history the router keeps in memory,
    # when a conversation counts as reopened, the period the gauges cover and how often they are recomputed.
    router_service_window_days: float = Field(default=30.0, gt=0)
    router_service_max_contacts: int = Field(default=100_000, ge=100)
    router_reopen_window_days: float = Field(default=7.0, gt=0)
    router_service_metrics_days: float = Field(default=7.0, gt=0)
    router_service_refresh_s: float = Field(default=15.0, gt=0)

    @field_validator("agent_token_secret")
    @classmethod
    def _long_enough(cls, secret: str) -> str:
        if secret and len(secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"must be at least {MIN_SECRET_BYTES} bytes (or empty to accept any login)")
        return secret

    @field_validator("feedback_token_secret")
    @classmethod
    def _survey_secret_long_enough(cls, secret: str) -> str:
        if secret and len(secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"must be at least {MIN_SECRET_BYTES} bytes (or empty to send no surveys)")
        return secret


class Router:
    """Start-up order matters: agents first, then contacts from routing.events, then live traffic; the desk
    reports SERVING only once the agents.profiles table has caught up and the routing state is restored."""

    def __init__(self, settings: RouterSettings) -> None:
        self.settings = settings
        self.failed = threading.Event()
        self._halt = threading.Event()
        self._ready = False
        self._threads: list[threading.Thread] = []
        engine = RoutingEngine(load_policy(settings.routing_policy_file))  # a bad policy fails before any I/O
        self.publisher = RouterPublisher(
            ProtoProducer(settings, client_id="router", linger_ms=settings.router_producer_linger_ms), self._fail
        )
        service = ServiceHistory(
            window_s=settings.router_service_window_days * DAY_S,
            max_contacts=settings.router_service_max_contacts,
            reopen_window_s=settings.router_reopen_window_days * DAY_S,
            metrics_period_s=settings.router_service_metrics_days * DAY_S,
        )
        surveys = SurveyDispatch(engine.policy, self.publisher, settings.feedback_token_secret)
        self.switchboard = Switchboard(engine, self.publisher, service=service, surveys=surveys)
        self.profiles = AgentProfileTable(settings, self.switchboard)
        self.intake = ContactIntake(settings, self.switchboard, self.publisher)
        self.routing_events = RoutingEventsReader(settings)
        self.feedback = FeedbackIntake(
            settings,
            service,
            self.switchboard.metrics.service_figures,
            settings.router_service_refresh_s,
            on_answer=self.switchboard.record_feedback,
        )
        self.clock = RoutingClock(
            self.switchboard,
            settings.router_tick_interval_s,
            PolicyWatch(settings.routing_policy_file, self.switchboard),
            settings.router_policy_check_interval_s,
        )
        self.address = f"{settings.router_grpc_host}:{settings.router_grpc_port}"
        authenticator = AgentAuthenticator(settings.agent_token_secret)
        if not authenticator.enforced:
            log.warning("agent_tokens_not_verified", hint="set AGENT_TOKEN_SECRET to require signed agent tokens")
        desk = grpc_agent_desk.AgentDeskServicer(self.switchboard, authenticator, ready=lambda: self._ready)
        if not settings.router_admin_token:
            log.warning("routing_admin_open", hint="set ROUTER_ADMIN_TOKEN to require a token for RoutingAdmin")
        if not surveys.enabled:
            log.warning("surveys_disabled", hint="set FEEDBACK_TOKEN_SECRET to send satisfaction surveys")
        admin = grpc_routing_admin.RoutingAdminServicer(self.switchboard, settings.router_admin_token)
        self.server = DeskServer(
            self.address,
            [
                lambda server: agent_desk_pb2_grpc.add_AgentDeskServicer_to_server(desk, server),
                lambda server: agent_desk_pb2_grpc.add_RoutingAdminServicer_to_server(admin, server),
            ],
            [grpc_agent_desk.SERVICE_NAME, grpc_routing_admin.SERVICE_NAME],
            max_concurrent_rpcs=settings.router_max_agent_streams,
            tls=ServerTls.from_settings(settings),
        )
        self._set_health(NOT_SERVING)

    def start(self, stop: threading.Event) -> bool:
        """Load state and start serving; False when stopped or failed before becoming ready."""
        self.server.start()
        timeout_s = self.settings.router_startup_timeout_s
        if not self.profiles.catch_up(stop, timeout_s):
            log.error("agent_profiles_not_loaded", timeout_s=timeout_s)
            return False
        try:
            restore(self.switchboard, self.routing_events.replay(stop, timeout_s))
        except TimeoutError:
            log.exception("routing_state_not_recovered")
            self.routing_events.close()
            return False
        self.publisher.flush(timeout_s)
        self._spawn("agent-profiles", self.profiles.follow)
        self._spawn("routing-events", lambda halt: self.routing_events.follow(self.switchboard, halt))
        self._spawn("contact-intake", self.intake.run)
        self._spawn("routing-clock", self.clock.run)
        self._spawn("contacts-feedback", self.feedback.run)
        self.switchboard.metrics.install()
        self._ready = True
        self._set_health(SERVING)
        log.info("service_ready", address=self.address, grpc_services=[grpc_agent_desk.SERVICE_NAME])
        return True

    def shutdown(self, grace_s: float = 5.0) -> None:
        """Stop taking work, rescind pending offers, flush routing events, commit offsets, close."""
        self._ready = False
        self._set_health(NOT_SERVING)
        self._halt.set()
        for thread in self._threads:
            thread.join(timeout=grace_s)
        self.switchboard.disconnect_all()
        self.publisher.flush(grace_s)
        self.server.stop(grace_s=1.0, timeout_s=grace_s)
        self.publisher.close(grace_s)
        self.switchboard.metrics.uninstall()
        log.info("service_stopped")

    def _spawn(self, name: str, loop: Callable[[threading.Event], None]) -> None:
        def guarded() -> None:
            try:
                loop(self._halt)
            except Exception as error:
                log.exception("router_loop_failed", loop=name)
                self._fail(error)

        thread = threading.Thread(target=guarded, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _fail(self, error: BaseException) -> None:
        """A routing event could not be written or a loop died: stop, and let recovery on restart take over."""
        log.error("router_failed", error=str(error))
        self._ready = False
        self._set_health(NOT_SERVING)
        self.failed.set()

    def _set_health(self, status: health_pb2.HealthCheckResponse.ServingStatus.ValueType) -> None:
        for name in ("", grpc_agent_desk.SERVICE_NAME, grpc_routing_admin.SERVICE_NAME):
            self.server.set_health(name, status)
