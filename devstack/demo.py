"""`make demo`: scripted agents over gRPC, real mails and signed webhooks, every routing decision printed live."""

from __future__ import annotations

import json
import smtplib
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import httpx
import yaml

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ProtoConsumer
from contactrouting.topics import ROUTING_EVENTS
from contactrouting.v1 import contact_pb2, routing_pb2
from devstack.stack import REPO_ROOT, Stack, StackPorts

Progress = Callable[[str], None]
RET = routing_pb2.RoutingEventType

DEMO_MAILS = (
    (
        "Ivana Horvat <ivana.horvat@example.net>",
        "support@example.com",
        "Ne mogu se prijaviti",
        "Dobar dan, ne mogu se prijaviti u korisnički račun od jučer. Možete li mi pomoći?",
    ),
    (
        "Peter Novák <peter.novak@example.sk>",
        "billing@example.com",
        "Faktúra za október",
        "Dobrý deň, na faktúre za október mám dvakrát zaúčtovanú tú istú položku. Prosím o opravu.",
    ),
    (
        "John Smith <john.smith@example.org>",
        "vip@example.com",
        "Urgent: outage in our account",
        "Hello, none of our users can log in since this morning. This is urgent for our business.",
    ),
    (
        "Anna Müller <anna.mueller@example.de>",
        "support@example.com",
        "Frage zur Lieferung",
        "Guten Tag, meine Bestellung ist noch nicht angekommen. Können Sie bitte den Status prüfen?",
    ),
    (
        "Marko Babić <marko.babic@example.net>",
        "billing@example.com",
        "Račun za studeni",
        "Poštovani, na računu za studeni vidim trošak koji ne prepoznajem. Molim objašnjenje.",
    ),
)
DEMO_TELEGRAM = (
    (9001, "hr", "Pozdrav! Aplikacija mi se ruši kad otvorim postavke, što da radim?"),
    (9002, "en", "Hi there, I was charged twice for my subscription this month."),
    (9003, "sk", "Dobrý deň, kedy mi príde vrátenie peňazí za objednávku?"),
)


@dataclass
class ContactRow:
    contact_id: str
    channel: str = ""
    language: str = ""
    queue: str = ""
    agent: str = ""
    queued_at: float = 0.0
    offered_at: float = 0.0
    accepted_at: float = 0.0
    outcome: str = "waiting"
    decisions: list[str] = field(default_factory=list)


class RoutingWatcher(threading.Thread):
    """Tails routing.events and prints each decision as it happens."""

    def __init__(self, kafka_bootstrap: str, progress: Progress) -> None:
        super().__init__(daemon=True)
        self.rows: dict[str, ContactRow] = {}
        self.progress = progress
        self.stop_event = threading.Event()
        self.consumer = ProtoConsumer(
            ServiceSettings(kafka_bootstrap_servers=kafka_bootstrap),
            {ROUTING_EVENTS: routing_pb2.RoutingEvent},
            client_id="demo-watcher",
            subscribe=False,
        )
        self.consumer.assign_from_end()

    def run(self) -> None:
        while not self.stop_event.is_set():
            for record in self.consumer.poll(timeout_ms=200):
                if isinstance(record.message, routing_pb2.RoutingEvent):
                    self.observe(record.message)
        self.consumer.close()

    def observe(self, event: routing_pb2.RoutingEvent) -> None:
        row = self.rows.setdefault(event.contact_id, ContactRow(event.contact_id))
        kind = RET.Name(event.type).removeprefix("ROUTING_EVENT_TYPE_").lower()
        at = event.occurred_at.ToMilliseconds() / 1000 or time.time()
        if event.type == RET.ROUTING_EVENT_TYPE_QUEUED:
            row.channel = contact_pb2.Channel.Name(event.channel).removeprefix("CHANNEL_").lower()
            row.language, row.queue, row.queued_at = event.language, event.queue, at
        elif event.type == RET.ROUTING_EVENT_TYPE_OFFERED and not row.offered_at:
            row.offered_at = at
        elif event.type == RET.ROUTING_EVENT_TYPE_ACCEPTED:
            row.accepted_at, row.agent, row.outcome = at, event.agent_id, "assigned"
        elif event.type in (RET.ROUTING_EVENT_TYPE_COMPLETED, RET.ROUTING_EVENT_TYPE_ABANDONED):
            row.outcome = kind
        summary = event.decision.summary or event.reason
        self.progress(
            f"{kind:<16} {event.contact_id[:12]:<12} {row.channel:<9} {row.language:<3} {row.queue:<8} "
            f"{event.agent_id or '-':<10} {summary}"
        )


def send_demo_mails(port: int) -> int:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        for sender, mailbox, subject, body in DEMO_MAILS:
            mail = EmailMessage()
            mail["From"], mail["To"], mail["Subject"] = sender, mailbox, subject
            mail["Message-ID"] = f"<{uuid.uuid4().hex}@demo.example>"
            mail.set_content(body)
            smtp.send_message(mail)
    return len(DEMO_MAILS)


def send_demo_webhooks(port: int) -> int:
    for chat_id, language, text in DEMO_TELEGRAM:
        update = {
            "update_id": int(time.time() * 1000) % 10**9 + chat_id,
            "message": {
                "message_id": int(time.time() * 1000) % 10**9,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "Demo", "language_code": language},
                "text": text,
            },
        }
        response = httpx.post(
            f"http://127.0.0.1:{port}/webhooks/telegram/demo-bot",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": "demo-telegram-secret"},
            timeout=30,
        )
        response.raise_for_status()
    return len(DEMO_TELEGRAM)


def demo_agent_ids() -> list[str]:
    document = yaml.safe_load((REPO_ROOT / "config" / "demo_agents.yaml").read_text())
    return [str(agent["id"]) for agent in document["agents"]]


def start_agents(router_port: int, agent_ids: list[str], log_dir: Path) -> list[subprocess.Popen[bytes]]:
    log_dir.mkdir(parents=True, exist_ok=True)
    processes = []
    for agent_id in agent_ids:
        with (log_dir / f"agent-{agent_id}.log").open("ab") as log_file:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "services.router.agent_client", "--target", f"127.0.0.1:{router_port}",
                     "--agent", agent_id, "--auto", "--think-time", "1.5"],
                    cwd=REPO_ROOT, stdout=log_file, stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
    return processes


def print_summary(rows: list[ContactRow], expected: int, elapsed: float) -> None:
    print("\nSummary")
    print(
        f"{'contact':<14}{'channel':<10}{'lang':<6}{'queue':<9}{'agent':<12}{'to offer':>10}{'to accept':>11}  outcome"
    )
    for row in rows:
        to_offer = f"{(row.offered_at - row.queued_at) * 1000:.0f} ms" if row.offered_at else "-"
        to_accept = f"{(row.accepted_at - row.queued_at):.1f} s" if row.accepted_at else "-"
        print(
            f"{row.contact_id[:12]:<14}{row.channel:<10}{row.language:<6}{row.queue:<9}{row.agent or '-':<12}"
            f"{to_offer:>10}{to_accept:>11}  {row.outcome}"
        )
    done = sum(row.outcome == "completed" for row in rows)
    print(f"\n{expected} contacts sent, {len(rows)} routed, {done} completed in {elapsed:.1f}s")


def run_demo(build_stack: Callable[[StackPorts], Stack], state_file: Path, progress: Progress) -> int:
    own_stack: Stack | None = None
    if state_file.exists():
        state = json.loads(state_file.read_text())
        ports, kafka_bootstrap = StackPorts(**state["ports"]), state["kafka_bootstrap"]
        progress("using the running stack (make run)")
    else:
        progress("no running stack found: starting one for the demo")
        own_stack = build_stack(StackPorts.defaults())
        own_stack.start()
        ports, kafka_bootstrap = own_stack.ports, own_stack.kafka_bootstrap
    watcher = RoutingWatcher(kafka_bootstrap, progress)
    watcher.start()
    agents = start_agents(ports.router_grpc, demo_agent_ids(), state_file.parent / "logs")
    try:
        time.sleep(2.0)  # let the agents log in before contacts arrive
        started = time.monotonic()
        expected = send_demo_mails(ports.smtp) + send_demo_webhooks(ports.webhook)
        progress(f"sent {expected} contacts; routing decisions follow")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            finished = [r for r in watcher.rows.values() if r.outcome in ("completed", "abandoned")]
            if len(finished) >= expected:
                break
            time.sleep(0.5)
        watcher.stop_event.set()
        watcher.join(5)
        print_summary(list(watcher.rows.values()), expected, time.monotonic() - started)
        return 0 if sum(r.outcome == "completed" for r in watcher.rows.values()) >= expected else 1
    finally:
        for process in agents:
            process.terminate()
        for process in agents:
            process.wait(10)
        if own_stack is not None:
            own_stack.stop()
