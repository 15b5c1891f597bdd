"""The composition root: builds the email gateway from settings and runs its parts together."""

from __future__ import annotations

import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import structlog

from contactrouting.database import create_engine
from contactrouting.kafka_io import ProtoConsumer, ProtoProducer
from contactrouting.language import warm_up
from contactrouting.topics import CONTACTS_OUTBOUND
from contactrouting.v1 import contact_pb2
from services.email_gateway.adapters.health_http import HealthServer
from services.email_gateway.adapters.imap_poller import ImapPoller
from services.email_gateway.adapters.kafka_publisher import ContactPublisher
from services.email_gateway.adapters.outbound_sender import OutboundSender
from services.email_gateway.adapters.smtp_relay import RelaySecurity, SmtpRelay
from services.email_gateway.adapters.smtp_server import InboundHandler, InboundSmtpServer, starttls_context
from services.email_gateway.adapters.thread_store import ThreadStore
from services.email_gateway.config import EmailGatewaySettings, load_gateway_config
from services.email_gateway.domain.outbound_mail import backoff_delays
from services.email_gateway.intake import MailIntake

log = structlog.get_logger()


class EmailGateway:
    def __init__(self, settings: EmailGatewaySettings) -> None:
        config = load_gateway_config(settings.email_gateway_config)
        directory = config.directory()
        self._settings = settings
        self._ready = threading.Event()
        self._stopping = threading.Event()
        publish_timeout_ms = int(settings.email_publish_timeout_s * 1000)
        # The producer gives up on a record when SMTP answers 451, so a deferred mail is not also delivered later.
        self._producer = ProtoProducer(
            settings,
            client_id="email-gateway",
            delivery_timeout_ms=publish_timeout_ms,
            request_timeout_ms=min(settings.kafka_request_timeout_ms, publish_timeout_ms - 100),
            max_block_ms=publish_timeout_ms,
        )
        # Wait a little past the delivery timeout so the producer's own verdict decides between 250 and 451.
        publisher = ContactPublisher(self._producer, timeout_s=settings.email_publish_timeout_s + 1)
        self._threads_engine = create_engine(_threads_url(settings))
        self._threads = ThreadStore(self._threads_engine)
        # Not shared: each replica threads and dedupes mail on its own.
        log.info("thread_store", shared=bool(settings.email_gateway_database_url.get_secret_value()))
        intake = MailIntake(directory, publisher, self._threads, source="email_gateway.smtp")
        # Each worker holds one SMTP transaction while it waits for Kafka's ack; 32 keeps many senders moving.
        self._workers = ThreadPoolExecutor(max_workers=32, thread_name_prefix="smtp-intake")
        tls_context = None
        if settings.smtp_tls_cert_file is not None and settings.smtp_tls_key_file is not None:
            tls_context = starttls_context(settings.smtp_tls_cert_file, settings.smtp_tls_key_file)
        self._smtp = InboundSmtpServer(
            InboundHandler(directory, intake, self._workers),
            settings.smtp_host,
            settings.smtp_port,
            config.max_message_bytes,
            tls_context,
        )
        self._sender = OutboundSender(
            ProtoConsumer(
                settings,
                {CONTACTS_OUTBOUND: contact_pb2.OutboundMessage},
                client_id="email-gateway-outbound",
                group_id=settings.email_outbound_group,
            ),
            self._producer,
            SmtpRelay(settings.smtp_relay_host, settings.smtp_relay_port, relay_security(settings)),
            self._threads,
            default_mailbox=config.mailboxes[0].address,
            retry_delays_s=backoff_delays(
                settings.email_send_max_attempts, settings.email_send_first_retry_s, settings.email_send_max_retry_s
            ),
            stop=self._stopping,
            clock=time.time,
            feedback_base_url=settings.feedback_base_url,
        )
        if not settings.feedback_base_url:
            log.warning("feedback_base_url_unset", effect="survey mails are recorded as DELIVERY_FAILED")
        imap_intake = MailIntake(directory, publisher, self._threads, source="email_gateway.imap")
        self._pollers = [
            ImapPoller(account, account.password(), imap_intake, self._stopping) for account in config.imap_accounts
        ]
        self._health = HealthServer(settings.smtp_host, settings.email_health_port, self._ready.is_set)

    def start(self) -> None:
        warm_up()
        self._health.start()
        self._smtp.start()
        self._sender.start()
        for poller in self._pollers:
            poller.start()
        self._ready.set()
        host, port = self._smtp.address
        log.info("service_ready", smtp=f"{host}:{port}", health=f"{self._settings.smtp_host}:{self._health.port}")

    def stop(self) -> None:
        """Stop accepting first, finish the mails in flight, then flush and close Kafka."""
        self._ready.clear()
        self._stopping.set()
        self._smtp.stop()
        self._workers.shutdown(wait=True)
        self._sender.join(timeout_s=5)
        for poller in self._pollers:
            poller.join(timeout_s=5)
        self._producer.flush(timeout_s=5)
        self._producer.close(timeout_s=2)
        self._threads_engine.dispose()
        self._health.stop()
        log.info("service_stopped")


def _threads_url(settings: EmailGatewaySettings) -> str:
    """EMAIL_GATEWAY_DATABASE_URL (shared by the replicas), or the SQLite file under DATA_DIR."""
    if url := settings.email_gateway_database_url.get_secret_value():
        return url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(settings.data_dir / 'email_gateway.db').resolve()}"


def relay_security(settings: EmailGatewaySettings) -> RelaySecurity:
    ca_file = settings.smtp_relay_ca_file
    return RelaySecurity(
        settings.smtp_relay_tls,
        settings.smtp_relay_username,
        settings.smtp_relay_password.get_secret_value(),
        ssl.create_default_context(cafile=str(ca_file)) if ca_file else None,
    )
