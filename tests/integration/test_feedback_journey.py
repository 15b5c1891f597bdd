"""The feedback loop through the real stack: a contact in, the agent completes, the survey goes out on the same
channel, the customer answers (a rating link in the survey mail, a number on Telegram), a FeedbackEvent appears,
and the `report` console script and RoutingAdmin show the exact CSAT."""

from __future__ import annotations

import json
import os
import re
import smtplib
import subprocess
import sys
import time
import uuid
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import grpc
import httpx
import pytest

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ProtoConsumer
from contactrouting.survey_tickets import issue_ticket
from contactrouting.topics import CONTACTS_FEEDBACK, CONTACTS_INBOUND
from contactrouting.v1 import agent_desk_pb2, agent_desk_pb2_grpc, contact_pb2, feedback_pb2
from devstack.desk import DeskSession, log_in
from devstack.platform_sink import read_records
from devstack.stack import DEMO_FEEDBACK_SECRET, REPO_ROOT, Stack

pytestmark = pytest.mark.integration

AGENTS_FILE = Path(__file__).with_name("feedback_agents.yaml")
AGENT = "feedback-agent"
TELEGRAM_SECRET = {"X-Telegram-Bot-Api-Secret-Token": "demo-telegram-secret"}
LINK = re.compile(r"http://127\.0\.0\.1:\d+/feedback/[^\s\"<>]+")


@pytest.fixture(scope="module")
def agent(stack: Stack) -> DeskSession:
    stack.load_agents(AGENTS_FILE)
    session = log_in(f"127.0.0.1:{stack.ports.router_grpc}", AGENT)
    session.send(
        agent_desk_pb2.AgentMessage(presence=agent_desk_pb2.SetPresence(presence=agent_desk_pb2.PRESENCE_AVAILABLE))
    )
    return session


def handle_and_complete(agent: DeskSession) -> contact_pb2.ContactEvent:
    offer = agent.next("offer", timeout_s=60)
    agent.send(
        agent_desk_pb2.AgentMessage(
            accept=agent_desk_pb2.AcceptOffer(offer_id=offer.offer.offer_id), traceparent=offer.traceparent
        )
    )
    contact_id = agent.next("assignment").assignment.contact_id
    reply = agent_desk_pb2.SendReply(contact_id=contact_id, body_text="Povrat novca je odobren.")
    agent.send(agent_desk_pb2.AgentMessage(reply=reply, traceparent=offer.traceparent))
    done = agent_desk_pb2.CompleteContact(contact_id=contact_id, disposition="resolved")
    agent.send(agent_desk_pb2.AgentMessage(complete=done, traceparent=offer.traceparent))
    assert agent.next("contact_closed").contact_closed.contact_id == contact_id
    return offer.offer.contact


def feedback_for(stack: Stack, contact_id: str, expected: int = 1, timeout_s: float = 30.0) -> list:
    consumer = ProtoConsumer(
        ServiceSettings(kafka_bootstrap_servers=stack.kafka_bootstrap),
        {CONTACTS_FEEDBACK: feedback_pb2.FeedbackEvent},
        client_id="test-feedback",
        subscribe=False,
    )
    consumer.assign_from_beginning()
    found: list[feedback_pb2.FeedbackEvent] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(found) < expected and time.monotonic() < deadline:
            found += [r.message for r in consumer.poll(timeout_ms=300) if r.key == contact_id]
        consumer.poll(timeout_ms=500)  # anything more would be a duplicate
    finally:
        consumer.close()
    return found


def survey_mail_to(stack: Stack, address: str, timeout_s: float = 30.0) -> EmailMessage:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for path in sorted((stack.var_dir / "outbox").glob("*.eml")):
            mail = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            if address in str(mail["To"]) and LINK.search(path.read_text(errors="replace")):
                assert isinstance(mail, EmailMessage)
                return mail
        time.sleep(0.3)
    raise AssertionError(f"no survey mail to {address} in {timeout_s} s")


def run_report(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap}
    return subprocess.run(
        [sys.executable, "-m", "services.router.report", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def telegram_update(chat_id: int, message_id: int, text: str) -> dict:
    return {
        "update_id": chat_id * 10 + message_id,
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Marko", "language_code": "hr"},
            "text": text,
        },
    }


def test_a_survey_mail_rating_link_becomes_one_feedback_event(stack: Stack, agent: DeskSession) -> None:
    token = uuid.uuid4().hex[:8]
    customer = f"kupac-{token}@example.net"
    mail = EmailMessage()
    mail["From"] = customer
    mail["To"] = "billing@example.com"
    mail["Subject"] = f"Povrat novca {token}"
    mail["Message-ID"] = f"<{token}@example.net>"
    mail.set_content("Dobar dan, molim povrat novca za dvostruko naplaćeni račun ovog mjeseca. Hvala.")
    with smtplib.SMTP("127.0.0.1", stack.ports.smtp, timeout=30) as smtp:
        smtp.send_message(mail)
    contact = handle_and_complete(agent)
    assert contact.subject == f"Povrat novca {token}"

    survey = survey_mail_to(stack, customer)
    assert survey["In-Reply-To"] == f"<{token}@example.net>"  # the same thread as the customer's mail
    text = survey.get_body(preferencelist=("plain",)).get_content()
    links = {int(re.search(r"rating=(\d+)", link).group(1)): link for link in LINK.findall(text)}
    assert sorted(links) == [1, 2, 3, 4, 5]

    clicked = httpx.get(links[4], timeout=30)
    assert clicked.status_code == 200
    (event,) = feedback_for(stack, contact.contact_id)
    assert (event.rating, event.scale, event.source) == (
        4,
        contact_pb2.SURVEY_SCALE_CSAT,
        feedback_pb2.FEEDBACK_SOURCE_RATING_LINK,
    )
    assert (event.agent_id, event.queue, event.language, event.channel) == (
        AGENT,
        "billing",
        "hr",
        contact_pb2.CHANNEL_EMAIL,
    )

    replayed = httpx.get(links[5], timeout=30)
    assert replayed.status_code == 409  # answered already: recorded once
    ticket = links[4].split("/feedback/")[1].split("?")[0]
    forged = ticket[:-2] + ("AA" if not ticket.endswith("AA") else "BB")
    assert httpx.get(links[4].replace(ticket, forged), timeout=30).status_code == 400
    assert feedback_for(stack, contact.contact_id, expected=2, timeout_s=2.0) == [event]


def test_an_expired_rating_link_is_refused_and_records_nothing(stack: Stack) -> None:
    expired = feedback_pb2.SurveyTicket(
        survey_id=uuid.uuid4().hex, contact_id=f"expired-{uuid.uuid4().hex}", scales=[contact_pb2.SURVEY_SCALE_CSAT]
    )
    expired.expires_at.FromSeconds(int(time.time()) - 60)
    ticket = issue_ticket(expired, DEMO_FEEDBACK_SECRET)
    response = httpx.get(f"http://127.0.0.1:{stack.ports.webhook}/feedback/{ticket}?scale=csat&rating=5", timeout=30)
    assert response.status_code == 410
    assert feedback_for(stack, expired.contact_id, timeout_s=2.0) == []


def test_a_telegram_survey_answer_is_feedback_and_never_a_contact(stack: Stack, agent: DeskSession) -> None:
    chat_id = int(uuid.uuid4().int % 10**9)
    webhook = f"http://127.0.0.1:{stack.ports.webhook}/webhooks/telegram/demo-bot"
    first = telegram_update(chat_id, 1, "Pozdrav, trebam refund za dvostruko naplaćen račun.")
    assert httpx.post(webhook, json=first, headers=TELEGRAM_SECRET, timeout=30).status_code == 200
    contact = handle_and_complete(agent)
    assert contact.channel == contact_pb2.CHANNEL_TELEGRAM

    deadline = time.monotonic() + 30
    surveys: list[dict] = []
    while not surveys and time.monotonic() < deadline:
        sent = read_records(stack.var_dir / "outbox")
        surveys = [
            r for r in sent if r["body"].get("chat_id") in (chat_id, str(chat_id)) and "reply_markup" in r["body"]
        ]
        time.sleep(0.3)
    assert surveys, "the survey must go out to the customer's Telegram chat"
    keyboard = surveys[0]["body"]["reply_markup"]["keyboard"]
    assert [row[0]["text"] for row in keyboard] == ["1", "2", "3", "4", "5"]

    answer = telegram_update(chat_id, 2, "2 predugo sam čekao")
    assert httpx.post(webhook, json=answer, headers=TELEGRAM_SECRET, timeout=30).status_code == 200
    (event,) = feedback_for(stack, contact.contact_id)
    assert (event.rating, event.comment, event.source) == (
        2,
        "predugo sam čekao",
        feedback_pb2.FEEDBACK_SOURCE_CHAT_REPLY,
    )
    assert (event.agent_id, event.channel) == (AGENT, contact_pb2.CHANNEL_TELEGRAM)

    consumer = ProtoConsumer(
        ServiceSettings(kafka_bootstrap_servers=stack.kafka_bootstrap),
        {CONTACTS_INBOUND: contact_pb2.ContactEvent},
        client_id="test-inbound",
        subscribe=False,
    )
    consumer.assign_from_beginning()
    routed: list[contact_pb2.ContactEvent] = []
    try:
        for _ in range(10):
            routed += [r.message for r in consumer.poll(timeout_ms=300) if r.key == contact.conversation_id]
    finally:
        consumer.close()
    assert [c.contact_id for c in routed] == [contact.contact_id]  # the answer was not routed
    assert agent.receive(1.0) is None  # and no offer (nor anything else) followed it


def test_the_report_and_routing_admin_show_the_exact_csat(stack: Stack) -> None:
    # The two journeys above: a 4 by email and a 2 on Telegram, both for feedback-agent: CSAT 50 %.
    result = run_report(stack, "--group-by", "agent", "-o", "json")
    assert result.returncode == 0, result.stderr
    rows = {row["key"]: row for row in json.loads(result.stdout)["rows"]}
    assert (rows[AGENT]["csat_responses"], rows[AGENT]["csat_percent"], rows[AGENT]["completed"]) == (2, 50.0, 2)
    table = run_report(stack, "--group-by", "agent")
    assert table.returncode == 0 and AGENT in table.stdout and "50" in table.stdout

    with grpc.insecure_channel(f"127.0.0.1:{stack.ports.router_grpc}") as channel:
        admin = agent_desk_pb2_grpc.RoutingAdminStub(channel)
        deadline = time.monotonic() + 20
        while True:
            report = admin.GetServiceReport(agent_desk_pb2.GetServiceReportRequest(group_by="agent"), timeout=10)
            row = next((r for r in report.rows if r.key == AGENT), None)
            if (row is not None and row.csat_responses == 2) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    assert row is not None and (row.csat_responses, row.csat_percent) == (2, 50.0)
