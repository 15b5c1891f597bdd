"""IMAP intake against a real IMAP server (pymap) started by the test: IDLE push, polling, flags and moves."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from imapclient import IMAPClient

from contactrouting.kafka_io import ConsumedRecord
from contactrouting.topics import CONTACTS_INBOUND, ensure_topics
from contactrouting.v1 import contact_pb2
from devstack.broker import EmbeddedBroker
from devstack.ports import free_port, wait_for_port
from devstack.tcp_proxy import TcpProxy

from .conftest import GATEWAY_CONFIG, RunningGateway, messages_of, read_topic, start_gateway

pytestmark = pytest.mark.integration

USER, PASSWORD = "demouser", "demopass"


@pytest.fixture(scope="module")
def imap_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    log_path = tmp_path_factory.mktemp("pymap") / "pymap.log"
    pymap = Path(sys.executable).with_name("pymap")
    with log_path.open("wb") as log_file:
        server = subprocess.Popen(
            [str(pymap), "--host", "127.0.0.1", "--port", str(port), "--no-tls", "dict", "--demo-data"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, 20)
        yield port
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture(scope="module")
def imap_gateway(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory, imap_port: int
) -> Iterator[RunningGateway]:
    ensure_topics(kafka_bootstrap, partitions=3, replication_factor=1)
    account = {"host": "127.0.0.1", "port": imap_port, "tls": False, "username": USER, "password_env": "IMAP_PASSWORD"}
    config = {
        **GATEWAY_CONFIG,
        "imap_accounts": [
            # A long poll interval: only IDLE can make this account fast enough for the test's deadline.
            {**account, "name": "idle", "folder": "INBOX", "mailbox": "support@example.com", "poll_interval_s": 120},
            {
                **account,
                "name": "polled",
                "folder": "Sent",
                "processed_folder": "Processed",
                "mailbox": "billing@example.com",
                "use_idle": False,
                "poll_interval_s": 0.5,
            },
        ],
    }
    running = start_gateway(
        tmp_path_factory.mktemp("email_gateway_imap"), kafka_bootstrap, config, IMAP_PASSWORD=PASSWORD
    )
    yield running
    assert running.stop() == 0, running.process.log_tail()


def imap(port: int) -> IMAPClient:
    client = IMAPClient("127.0.0.1", port=port, ssl=False, timeout=10)
    client.login(USER, PASSWORD)
    return client


def mail(subject: str, body: str) -> tuple[bytes, str]:
    message = EmailMessage()
    message["From"] = "Jana Novak <jana.novak@example.sk>"
    message["To"] = "helpdesk@example.net"
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@example.sk>"
    message.set_content(body)
    return message.as_bytes(), str(message["Message-ID"])


def events_for(gateway: RunningGateway, message_id: str, timeout_s: float = 20) -> list[contact_pb2.ContactEvent]:
    def found(records: list[ConsumedRecord]) -> list[contact_pb2.ContactEvent]:
        events = messages_of(records, contact_pb2.ContactEvent)
        return [e for e in events if e.source.platform_message_id == message_id]

    return found(read_topic(gateway.kafka_bootstrap, CONTACTS_INBOUND, contact_pb2.ContactEvent, found, timeout_s))


def wait_until(condition: Callable[[], bool], timeout_s: float = 10) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_idle_delivers_new_mail_at_once_and_flags_it_seen_after_the_ack(
    imap_gateway: RunningGateway, imap_port: int
) -> None:
    raw, message_id = mail("Nefunguje prihlásenie", "Dobrý deň, nefunguje mi prihlásenie do aplikácie.")
    client = imap(imap_port)
    try:
        time.sleep(1.0)  # let the gateway settle into IDLE after taking the demo mail
        uid = int(client.append("INBOX", raw).split(b"]")[0].split()[-1])
        [event] = events_for(imap_gateway, message_id, timeout_s=15)
        assert (event.source.mailbox, event.queue, event.language) == ("support@example.com", "general", "sk")
        assert event.body_text == "Dobrý deň, nefunguje mi prihlásenie do aplikácie."
        client.select_folder("INBOX")
        assert wait_until(lambda: b"\\Seen" in client.get_flags([uid]).get(uid, ()))
    finally:
        client.logout()


def test_polled_mail_is_moved_to_the_processed_folder_and_a_repoll_is_not_published_twice(
    imap_gateway: RunningGateway, imap_port: int
) -> None:
    raw, message_id = mail("Nesprávna faktúra", "Dobrý deň, na faktúre je nesprávna suma.")
    client = imap(imap_port)
    try:
        client.append("Sent", raw)
        [event] = events_for(imap_gateway, message_id)
        assert (event.source.mailbox, event.queue) == ("billing@example.com", "billing")

        def count_in(folder: str) -> int:
            client.select_folder(folder, readonly=True)
            return len(client.search(["HEADER", "Message-ID", message_id]))

        assert wait_until(lambda: count_in("Sent") == 0 and count_in("Processed") == 1)
        client.append("Sent", raw)  # the same message again, as after a crash between publish and move
        assert wait_until(lambda: count_in("Sent") == 0 and count_in("Processed") == 2)
        assert len(events_for(imap_gateway, message_id)) == 1
    finally:
        client.logout()


def test_mail_stays_unprocessed_on_the_server_while_kafka_is_down(
    imap_port: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    var_dir = tmp_path_factory.mktemp("imap_kafka_down")
    proxy_port = free_port()
    broker = EmbeddedBroker(port=free_port(), log_path=var_dir / "tansu.log", advertised_port=proxy_port)
    broker.start()
    proxy = TcpProxy(proxy_port, broker.port)
    proxy.start()
    ensure_topics(broker.bootstrap_servers, partitions=1, replication_factor=1)
    client = imap(imap_port)
    client.create_folder("Outage")
    account = {"host": "127.0.0.1", "port": imap_port, "tls": False, "username": USER, "password_env": "IMAP_PASSWORD"}
    config = {
        **GATEWAY_CONFIG,
        "imap_accounts": [
            {
                **account,
                "name": "outage",
                "folder": "Outage",
                "processed_folder": "Outage-done",
                "use_idle": False,
                "mailbox": "support@example.com",
                "poll_interval_s": 0.5,
            },
        ],
    }
    gateway = start_gateway(
        var_dir, broker.bootstrap_servers, config, IMAP_PASSWORD=PASSWORD, EMAIL_PUBLISH_TIMEOUT_S="1"
    )
    try:
        proxy.cut()
        raw, message_id = mail("Kafka outage", "Please do not lose this message.")
        client.append("Outage", raw)
        time.sleep(4)  # several polls, each refused by Kafka

        def count_in(folder: str) -> int:
            client.select_folder(folder, readonly=True)
            return len(client.search(["HEADER", "Message-ID", message_id]))

        assert count_in("Outage") == 1 and count_in("Outage-done") == 0
        proxy.restore()
        assert wait_until(lambda: count_in("Outage") == 0 and count_in("Outage-done") == 1, timeout_s=30)
        assert len(events_for(gateway, message_id)) == 1
    finally:
        client.logout()
        assert gateway.stop() == 0, gateway.process.log_tail()
        proxy.stop()
        broker.stop()
