"""The composition root: builds the social gateway from settings and runs it until asked to stop."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import structlog
import uvicorn
from fastapi import FastAPI
from kafka.errors import KafkaError

from contactrouting.kafka_io import ProtoConsumer, ProtoProducer
from contactrouting.language import warm_up
from contactrouting.topics import CONTACTS_OUTBOUND
from contactrouting.v1 import contact_pb2
from services.social_gateway.adapters.dedupe_store import SqlSeenMessages
from services.social_gateway.adapters.feedback_routes import feedback_router
from services.social_gateway.adapters.http_api import WebhookFrontDoor, create_http_app
from services.social_gateway.adapters.kafka_sink import KafkaContactSink
from services.social_gateway.adapters.meta_routes import meta_router
from services.social_gateway.adapters.platform_client import PlatformClient
from services.social_gateway.adapters.rating_links import RatingLinks
from services.social_gateway.adapters.reply_sender import OUTBOUND_GROUP, ReplySender
from services.social_gateway.adapters.store_engines import StoreEngines
from services.social_gateway.adapters.survey_store import SqlSurveyLedger
from services.social_gateway.adapters.telegram_routes import telegram_router
from services.social_gateway.adapters.webhook_pipeline import WebhookPipeline
from services.social_gateway.adapters.x_routes import x_router
from services.social_gateway.domain.chat_surveys import ChatSurveys
from services.social_gateway.domain.intake import WebhookIntake
from services.social_gateway.domain.rate_limit import RateLimiter
from services.social_gateway.domain.replay_window import ReplayWindow
from services.social_gateway.settings import SocialGatewayConfig, SocialGatewaySettings

log = structlog.get_logger()

_KAFKA_RETRY_S = 1.0
# Webhooks handled at once, each waiting for its Kafka acks on a thread (as many as anyio's default thread pool).
_WEBHOOK_HANDLERS = 40


class DemoSecretsRefused(RuntimeError):
    pass


class SocialGateway:
    def __init__(self, settings: SocialGatewaySettings, config: SocialGatewayConfig) -> None:
        demo_secrets = config.demo_secrets_in_use()
        if demo_secrets and not settings.demo_mode:
            raise DemoSecretsRefused(f"demo secrets outside DEMO_MODE: {', '.join(demo_secrets)}")
        self._settings = settings
        self._config = config
        self._producer: ProtoProducer | None = None
        self._stores = StoreEngines(
            settings.social_gateway_database_url.get_secret_value(), settings.data_dir / "social_gateway"
        )
        self._survey_ledger: SqlSurveyLedger | None = None
        self._chat_surveys: ChatSurveys | None = None
        self._reply_sender: ReplySender | None = None
        self._server: uvicorn.Server | None = None
        self._server_thread: threading.Thread | None = None
        self._handlers = ThreadPoolExecutor(_WEBHOOK_HANDLERS, thread_name_prefix="webhook")

    def start(self, stop: threading.Event) -> bool:
        """Connect to Kafka (waiting for it if needed), open the HTTP port, start replies; False if stopped first."""
        producer = self._connect_producer(stop)
        if producer is None:
            return False
        self._producer = producer
        # Load every language model now, not on the first webhook: platforms disable slow webhooks.
        warm_up()
        if not self._serve_http(self._http_app(producer), stop):
            return False
        if self._config.outbound.enabled:
            self._reply_sender = self._start_reply_sender(producer, stop)
        assert self._server is not None
        address = self._server.servers[0].sockets[0].getsockname()
        log.info("service_ready", webhook_address=f"{address[0]}:{address[1]}")
        return True

    def _http_app(self, producer: ProtoProducer) -> FastAPI:
        limits = self._config.limits
        # Not shared: each replica would dedupe and recognise survey answers on its own.
        log.info("state_stores", shared=self._stores.shared)
        seen = SqlSeenMessages(
            self._stores.engine("published"),
            "social_published_messages",
            limits.dedupe_retention_days * 86400,
            limits.claim_lease_s,
        )
        sink = KafkaContactSink(producer, limits.publish_timeout_s / 2)
        secret = self._settings.feedback_token_secret.get_secret_value()
        if secret:
            self._survey_ledger = SqlSurveyLedger(self._stores.engine("surveys"), limits.claim_lease_s)
            self._chat_surveys = ChatSurveys(self._survey_ledger, secret)
        else:
            log.warning("feedback_off", reason="FEEDBACK_TOKEN_SECRET is empty: no rating links, no chat answers")
        intake = WebhookIntake(sink, seen, self._config.queue_rules(), surveys=self._chat_surveys)
        front_door = WebhookFrontDoor(
            WebhookPipeline(intake, ReplayWindow(limits.replay_window_days * 86400)),
            RateLimiter(limits.rate_per_s, limits.rate_burst),
            limits.max_body_bytes,
            self._handlers,
        )
        app = create_http_app(front_door, is_ready=lambda: self._server is not None and self._server.started)
        app.include_router(telegram_router(self._config.telegram, front_door))
        app.include_router(meta_router(self._config.meta, front_door))
        app.include_router(x_router(self._config.x, front_door))
        if self._survey_ledger is not None:
            app.include_router(feedback_router(RatingLinks(secret, self._survey_ledger, sink), front_door))
        return app

    def _serve_http(self, app: FastAPI, stop: threading.Event) -> bool:
        """uvicorn in its own thread (the main thread keeps the signal handlers); True once it listens."""
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=self._settings.webhook_host,
                port=self._settings.webhook_port,
                log_config=None,
                access_log=False,
                # The C parser and event loop: about 150 us less CPU per request than h11 on asyncio.
                http="httptools",
                loop="uvloop",
                lifespan="off",
                timeout_graceful_shutdown=10,
            )
        )
        self._server = server
        self._server_thread = threading.Thread(target=server.run, name="webhook-http", daemon=True)
        self._server_thread.start()
        while not server.started:
            if not self._server_thread.is_alive():
                raise RuntimeError(f"webhook server failed to listen on {self._settings.webhook_port}")
            if stop.wait(0.02):
                return False
        return True

    @property
    def serving(self) -> bool:
        return self._server_thread is not None and self._server_thread.is_alive()

    def shutdown(self) -> None:
        """Stop accepting, let in-flight requests finish (they wait for their acks), then flush and close."""
        if self._server is not None and self._server_thread is not None:
            self._server.should_exit = True
            self._server_thread.join(timeout=15)
        self._handlers.shutdown(wait=True)  # requests still waiting for their acks finish first
        if self._reply_sender is not None:
            self._reply_sender.join(timeout_s=15)  # the stop event ends its loop; it commits what it settled
        if self._producer is not None:
            self._producer.flush(timeout_s=5)  # its acks still confirm keys: the stores close after it
            self._producer.close()
        self._stores.dispose()
        log.info("service_stopped")

    def _start_reply_sender(self, producer: ProtoProducer, stop: threading.Event) -> ReplySender:
        sent = SqlSeenMessages(
            self._stores.engine("sent"),
            "social_sent_messages",
            self._config.limits.dedupe_retention_days * 86400,
            self._config.outbound.claim_lease_s,
        )
        consumer = ProtoConsumer(
            self._settings,
            {CONTACTS_OUTBOUND: contact_pb2.OutboundMessage},
            client_id="social-gateway-outbound",
            group_id=OUTBOUND_GROUP,
        )
        sender = ReplySender(
            consumer,
            producer,
            PlatformClient(self._config.outbound.request_timeout_s),
            self._config.reply_endpoints(),
            sent,
            self._config.retry_policy(),
            stop,
            self._chat_surveys,
        )
        sender.start()
        return sender

    def _connect_producer(self, stop: threading.Event) -> ProtoProducer | None:
        while not stop.is_set():
            try:
                # Half the budget may go to reaching an unreachable broker (max_block), half to waiting for the ack:
                # either way the webhook has its answer, 200 or 503, within publish_timeout_s. A record nobody waits
                # for any more expires soon after, so a broker that lost its producer state (a restart) renews the
                # producer within seconds instead of blocking the partition for the default two minutes.
                publish_timeout_ms = int(self._config.limits.publish_timeout_s * 1000)
                return ProtoProducer(
                    self._settings,
                    client_id="social-gateway",
                    max_block_ms=publish_timeout_ms // 2,
                    delivery_timeout_ms=publish_timeout_ms,
                    request_timeout_ms=min(self._settings.kafka_request_timeout_ms, publish_timeout_ms * 9 // 10),
                )
            except KafkaError as error:
                log.warning("kafka_unavailable", error=type(error).__name__, retry_in_s=_KAFKA_RETRY_S)
                stop.wait(_KAFKA_RETRY_S)
        return None


def run(settings: SocialGatewaySettings, config: SocialGatewayConfig, stop: threading.Event) -> None:
    gateway = SocialGateway(settings, config)
    try:
        if gateway.start(stop):
            while not stop.wait(0.5):
                if not gateway.serving:
                    raise RuntimeError("webhook server stopped unexpectedly")
    finally:
        gateway.shutdown()
