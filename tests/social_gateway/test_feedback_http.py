"""Survey answers through the real gateway process and the real broker: rating links and a Telegram chat answer."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator

import pytest
import yaml
from support.prometheus import labels, samples, scrape

from contactrouting.survey_scales import rating_link
from contactrouting.survey_tickets import issue_ticket
from contactrouting.topics import CONTACTS_FEEDBACK
from contactrouting.v1 import contact_pb2, feedback_pb2
from devstack.ports import free_port
from services.social_gateway.domain.contact_events import conversation_id, customer_id
from services.social_gateway.domain.messages import Platform

from .conftest import DEMO_CONFIG, GatewayProcess, http, inbound_events, read_topic, start_gateway
from .platform_stub import PlatformStub
from .survey_records import publish_outbound, telegram_survey

pytestmark = pytest.mark.integration

SECRET = "feedback-secret-for-gateway-tests"
BOT_TOKEN = "123456:SURVEY-token"
TELEGRAM = {"X-Telegram-Bot-Api-Secret-Token": "demo-telegram-secret"}
CSAT, NPS = contact_pb2.SURVEY_SCALE_CSAT, contact_pb2.SURVEY_SCALE_NPS


@pytest.fixture(scope="module")
def stub() -> Iterator[PlatformStub]:
    server = PlatformStub()
    yield server
    server.close()


@pytest.fixture(scope="module")
def metrics_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def feedback_gateway(
    topics: str, stub: PlatformStub, metrics_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    work_dir = tmp_path_factory.mktemp("feedback")
    config = yaml.safe_load(DEMO_CONFIG.read_text())
    config["telegram"]["api_base_url"] = stub.url
    config["telegram"]["bots"]["demo-bot"]["api_token"] = BOT_TOKEN
    path = work_dir / "social_gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    gateway = start_gateway(
        work_dir,
        topics,
        config=path,
        extra_env={"FEEDBACK_TOKEN_SECRET": SECRET, "METRICS_PORT": str(metrics_port)},
    )
    yield gateway
    gateway.stop()


def ticket(
    *scales: contact_pb2.SurveyScale,
    channel: contact_pb2.Channel = contact_pb2.CHANNEL_EMAIL,
    customer: str = "email-0123",
    expires_in_s: float = 3600,
) -> feedback_pb2.SurveyTicket:
    message = feedback_pb2.SurveyTicket(
        survey_id=str(uuid.uuid4()),
        contact_id=str(uuid.uuid4()),
        conversation_id=f"conv-{uuid.uuid4().hex[:8]}",
        agent_id="agent-7",
        queue="billing",
        language="hr",
        channel=channel,
        scales=list(scales),
        customer_id=customer,
    )
    message.expires_at.FromSeconds(int(time.time() + expires_in_s))
    message.completed_at.FromSeconds(int(time.time()) - 120)
    return message


def feedback_for(
    topics: str, contact_id: str, expected: int, settle_s: float = 0.5
) -> list[feedback_pb2.FeedbackEvent]:
    """The FeedbackEvents of one contact; with expected=0, everything published so far (should be none)."""
    return read_topic(
        topics,
        CONTACTS_FEEDBACK,
        feedback_pb2.FeedbackEvent,
        keep=lambda record: record.key == contact_id,
        until=(lambda events: len(events) >= expected) if expected else None,
        settle_s=settle_s,
    )


def test_a_rating_link_records_the_answer_once_and_thanks_in_the_customers_language(
    feedback_gateway: GatewayProcess, topics: str
) -> None:
    surveyed = ticket(CSAT, NPS)
    link = rating_link(feedback_gateway.url, issue_ticket(surveyed, SECRET), NPS, 9)
    before = time.time()
    response = http.get(link, headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "Hvala! Zabilježili smo vašu ocjenu: 9 od 10." in response.text

    (event,) = feedback_for(topics, surveyed.contact_id, 1)
    assert event.answered_at.ToNanoseconds() >= int(before * 1e9)
    assert event.answered_at.seconds <= time.time()
    expected = feedback_pb2.FeedbackEvent(
        event_id=event.event_id,
        survey_id=surveyed.survey_id,
        contact_id=surveyed.contact_id,
        conversation_id=surveyed.conversation_id,
        scale=NPS,
        rating=9,
        agent_id="agent-7",
        queue="billing",
        language="hr",
        channel=contact_pb2.CHANNEL_EMAIL,
        source=feedback_pb2.FEEDBACK_SOURCE_RATING_LINK,
        answered_at=event.answered_at,
        completed_at=surveyed.completed_at,
    )
    assert event == expected
    assert uuid.UUID(event.event_id)

    # The same question again (the same click, or another rating): already recorded, nothing published.
    replay = http.get(link)
    assert replay.status_code == 409 and "Vaša je ocjena već zabilježena." in replay.text
    other = http.get(rating_link(feedback_gateway.url, issue_ticket(surveyed, SECRET), NPS, 3))
    assert other.status_code == 409
    # The survey's other question is still open.
    csat = http.get(rating_link(feedback_gateway.url, issue_ticket(surveyed, SECRET), CSAT, 5))
    assert csat.status_code == 200
    events = feedback_for(topics, surveyed.contact_id, 2)
    assert sorted((e.scale, e.rating) for e in events) == [(CSAT, 5), (NPS, 9)]
    assert len({e.event_id for e in events}) == 2


@pytest.mark.parametrize(
    ("make_link", "status", "phrase"),
    [
        (lambda url, t: rating_link(url, issue_ticket(t, "another-secret-of-enough-length"), CSAT, 5), 400, "nije"),
        (lambda url, t: f"{url}/feedback/not-a-ticket?scale=csat&rating=5", 400, "nije valjana"),
        (lambda url, t: rating_link(url, issue_ticket(t, SECRET), CSAT, 5)[:-30] + "A" * 30, 400, "nije"),
        (
            lambda url, t: rating_link(url, issue_ticket(t, SECRET), CSAT, 5).replace("rating=5", "rating=6"),
            400,
            "nije",
        ),
        (lambda url, t: rating_link(url, issue_ticket(t, SECRET), NPS, 9), 400, "nije valjana"),
        (lambda url, t: rating_link(url, issue_ticket(t, SECRET), CSAT, 5).split("?")[0], 400, "nije valjana"),
    ],
    ids=["forged", "malformed", "tampered", "out-of-range", "scale-not-asked", "no-query"],
)
def test_an_invalid_link_gets_a_400_page_and_publishes_nothing(
    feedback_gateway: GatewayProcess, topics: str, make_link: object, status: int, phrase: str
) -> None:
    surveyed = ticket(CSAT)
    assert callable(make_link)
    response = http.get(make_link(feedback_gateway.url, surveyed), headers={"Accept-Language": "hr-HR,hr;q=0.9"})
    assert response.status_code == status
    assert phrase in response.text
    assert feedback_for(topics, surveyed.contact_id, 0) == []


def test_an_expired_link_gets_a_410_page_and_publishes_nothing(feedback_gateway: GatewayProcess, topics: str) -> None:
    surveyed = ticket(CSAT, expires_in_s=-1)
    response = http.get(
        rating_link(feedback_gateway.url, issue_ticket(surveyed, SECRET), CSAT, 4), headers={"Accept-Language": "sk"}
    )
    assert response.status_code == 410
    assert "Platnosť tohto odkazu na hodnotenie vypršala." in response.text
    assert feedback_for(topics, surveyed.contact_id, 0) == []


def test_refusals_and_answers_are_counted_without_ids(feedback_gateway: GatewayProcess, metrics_port: int) -> None:
    def refused() -> dict[str, float]:
        found = samples(scrape(metrics_port), "feedback_refused_total")
        return {dict(key)["reason"]: value for key, value in found.items()}

    before = refused()
    surveyed = ticket(CSAT)
    token = issue_ticket(surveyed, SECRET)
    assert http.get(rating_link(feedback_gateway.url, token, CSAT, 2)).status_code == 200
    assert http.get(rating_link(feedback_gateway.url, token, CSAT, 2)).status_code == 409
    assert http.get(rating_link(feedback_gateway.url, token, CSAT, 9)).status_code == 400
    assert http.get(f"{feedback_gateway.url}/feedback/x.y?scale=csat&rating=1").status_code == 400
    expired = issue_ticket(ticket(CSAT, expires_in_s=-5), SECRET)
    assert http.get(rating_link(feedback_gateway.url, expired, CSAT, 1)).status_code == 410

    after = refused()
    delta = {reason: after.get(reason, 0) - before.get(reason, 0) for reason in after}
    assert {reason: n for reason, n in delta.items() if n} == {
        "already_answered": 1,
        "bad_rating": 1,
        "invalid_ticket": 1,
        "expired": 1,
    }
    text = scrape(metrics_port)
    assert samples(text, "feedback_recorded_total")[labels(channel="email", scale="csat")] >= 1
    assert surveyed.survey_id not in text and surveyed.contact_id not in text


def telegram_text(chat_id: int, message_id: int, text: str) -> dict[str, object]:
    return {
        "update_id": random.randint(1, 10**9),
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Marko", "language_code": "hr"},
            "text": text,
        },
    }


def test_a_telegram_answer_after_a_survey_is_feedback_not_a_contact(
    feedback_gateway: GatewayProcess, stub: PlatformStub, topics: str
) -> None:
    chat_id = random.randint(10**8, 10**9)
    customer = customer_id(Platform.TELEGRAM, str(chat_id))
    surveyed = ticket(CSAT, channel=contact_pb2.CHANNEL_TELEGRAM, customer=customer)
    survey = telegram_survey(surveyed, chat_id, SECRET, quick_replies=["1", "2", "3", "4", "5"])
    publish_outbound(topics, survey)
    (sent,) = stub.wait_for(f"/bot{BOT_TOKEN}/sendMessage", 1, lambda r: r.body["chat_id"] == str(chat_id))
    assert sent.body["reply_markup"]["keyboard"] == [[{"text": str(n)}] for n in range(1, 6)]
    # The survey is recorded as open right after the platform accepted it, and the gateway logs that.
    deadline = time.monotonic() + 10
    while surveyed.survey_id not in feedback_gateway.log_file.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert f'"survey_id": "{surveyed.survey_id}"' in feedback_gateway.log_file.read_text()

    url = f"{feedback_gateway.url}/webhooks/telegram/demo-bot"
    answered = http.post(url, json=telegram_text(chat_id, 42, "4 brzo i ljubazno"), headers=TELEGRAM)
    assert answered.status_code == 200
    assert answered.json() == {"published": 0, "duplicates": 0, "skipped": 0, "survey_answers": 1}
    (event,) = feedback_for(topics, surveyed.contact_id, 1)
    assert (event.rating, event.comment, event.source, event.scale) == (
        4,
        "brzo i ljubazno",
        feedback_pb2.FEEDBACK_SOURCE_CHAT_REPLY,
        CSAT,
    )
    assert (event.agent_id, event.queue, event.channel) == ("agent-7", "billing", contact_pb2.CHANNEL_TELEGRAM)

    conversation = conversation_id(Platform.TELEGRAM, "demo-bot", str(chat_id))
    assert inbound_events(topics, conversation, 0) == []

    # Anything else is a contact again: text, and a number once the survey is answered.
    for message_id, text in ((43, "Hvala, i još jedno pitanje o računu."), (44, "5")):
        reply = http.post(url, json=telegram_text(chat_id, message_id, text), headers=TELEGRAM)
        assert reply.status_code == 200 and reply.json()["published"] == 1
    contacts = inbound_events(topics, conversation, 2)
    assert [contact.body_text for contact in contacts] == ["Hvala, i još jedno pitanje o računu.", "5"]
    assert len(feedback_for(topics, surveyed.contact_id, 0)) == 1
