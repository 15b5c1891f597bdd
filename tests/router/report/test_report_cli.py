"""`python -m services.router.report` against a real broker: routing events and survey answers published, the
figures read back from its JSON and its table.

Range 2025-03-03 (UTC), no other test writes there. Contacts (received -> first reply -> completed):
  c1 billing email hr  a1  00:00:00 -> +60 s  -> +600 s    CSAT 5, NPS 10
  c2 billing tg    en  a2  01:00:00 -> +180 s -> +1800 s   CSAT 3, NPS 9
  c3 general email hr  a1  02:00:00 -> none   -> +300 s    CSAT 4, NPS 2; its conversation comes back 1 h later
  c0 billing email hr  a1  completed the day before        CSAT 1 (outside the range: not counted)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ProtoProducer
from contactrouting.topics import CONTACTS_FEEDBACK, ROUTING_EVENTS, ensure_topics
from contactrouting.v1 import contact_pb2, feedback_pb2, routing_pb2
from services.router.report.__main__ import instant, period_of

RET = routing_pb2.RoutingEventType
DAY = datetime(2025, 3, 3, tzinfo=UTC).timestamp()
CSAT, NPS = contact_pb2.SURVEY_SCALE_CSAT, contact_pb2.SURVEY_SCALE_NPS
EMAIL, TELEGRAM = contact_pb2.CHANNEL_EMAIL, contact_pb2.CHANNEL_TELEGRAM


def stamp(seconds: float) -> Timestamp:
    value = Timestamp()
    value.FromNanoseconds(round(seconds * 1e9))
    return value


class Contact:
    def __init__(self, received: float, queue: str, channel: int, language: str, agent: str, conversation: str = ""):
        self.id = f"c-{uuid.uuid4().hex[:10]}"
        self.conversation = conversation or f"conv-{self.id}"
        self.received, self.queue, self.channel, self.language, self.agent = received, queue, channel, language, agent

    def event(self, kind: int, at: float, **fields: object) -> routing_pb2.RoutingEvent:
        return routing_pb2.RoutingEvent(
            event_id=uuid.uuid4().hex,
            contact_id=self.id,
            conversation_id=self.conversation,
            type=kind,  # type: ignore[arg-type]
            occurred_at=stamp(at),
            queue=self.queue,
            channel=self.channel,  # type: ignore[arg-type]
            language=self.language,
            **fields,  # type: ignore[arg-type]
        )

    def history(self, reply_after: float | None, complete_after: float) -> list[routing_pb2.RoutingEvent]:
        contact = contact_pb2.ContactEvent(
            contact_id=self.id, conversation_id=self.conversation, received_at=stamp(self.received)
        )
        events = [
            self.event(RET.ROUTING_EVENT_TYPE_QUEUED, self.received + 1, contact=contact),
            self.event(RET.ROUTING_EVENT_TYPE_ASSIGNED, self.received + 5, agent_id=self.agent),
        ]
        if reply_after is not None:
            events.append(self.event(RET.ROUTING_EVENT_TYPE_REPLY_SENT, self.received + reply_after))
        events.append(self.event(RET.ROUTING_EVENT_TYPE_COMPLETED, self.received + complete_after, agent_id=self.agent))
        return events

    def answer(self, scale: int, rating: int) -> feedback_pb2.FeedbackEvent:
        return feedback_pb2.FeedbackEvent(
            event_id=uuid.uuid4().hex,
            survey_id=f"s-{self.id}",
            contact_id=self.id,
            conversation_id=self.conversation,
            scale=scale,  # type: ignore[arg-type]
            rating=rating,
            agent_id=self.agent,
            queue=self.queue,
            language=self.language,
            channel=self.channel,  # type: ignore[arg-type]
            answered_at=stamp(DAY + 20_000),
        )


@pytest.fixture(scope="module")
def published(kafka_bootstrap: str) -> None:
    settings = ServiceSettings(kafka_bootstrap_servers=kafka_bootstrap)
    ensure_topics(kafka_bootstrap, partitions=settings.topic_partitions, replication_factor=1)
    c1 = Contact(DAY, "billing", EMAIL, "hr", "a1")
    c2 = Contact(DAY + 3600, "billing", TELEGRAM, "en", "a2")
    c3 = Contact(DAY + 7200, "general", EMAIL, "hr", "a1")
    c4 = Contact(DAY + 7200 + 300 + 3600, "general", EMAIL, "hr", "a1", conversation=c3.conversation)
    c0 = Contact(DAY - 7200, "billing", EMAIL, "hr", "a1")
    events = [
        *c1.history(60, 600),
        *c2.history(180, 1800),
        *c3.history(None, 300),
        *c4.history(None, 100)[:1],  # only queued: the customer wrote again
        *c0.history(None, 600),
    ]
    answers = [
        c1.answer(CSAT, 5),
        c1.answer(NPS, 10),
        c2.answer(CSAT, 3),
        c2.answer(NPS, 9),
        c3.answer(CSAT, 4),
        c3.answer(NPS, 2),
        c0.answer(CSAT, 1),
    ]
    producer = ProtoProducer(settings, client_id="test-report")
    for event in events:
        producer.publish(ROUTING_EVENTS, event.contact_id, event)
    for answer in answers:
        producer.publish(CONTACTS_FEEDBACK, answer.contact_id, answer)
    producer.flush(10)
    producer.close()


def report(kafka_bootstrap: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "LOG_FORMAT": "json"}
    return subprocess.run(
        [sys.executable, "-m", "services.router.report", *args], env=env, capture_output=True, text=True, timeout=90
    )


@pytest.mark.integration
def test_json_by_queue(kafka_bootstrap: str, published: None) -> None:
    result = report(
        kafka_bootstrap, "--since", "2025-03-03", "--until", "2025-03-04", "--group-by", "queue", "-o", "json"
    )

    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert (output["since"], output["until"], output["group_by"]) == (
        "2025-03-03T00:00:00Z",
        "2025-03-04T00:00:00Z",
        "queue",
    )
    assert output["rows"] == [
        {
            "key": "billing",
            "completed": 2,
            "csat_responses": 2,
            "csat_percent": 50.0,
            "nps_responses": 2,
            "nps": 100.0,
            "first_responses": 2,
            "first_response_avg_s": 120.0,
            "first_response_p90_s": 180.0,
            "resolution_avg_s": 1200.0,
            "resolution_p90_s": 1800.0,
            "reopened": 0,
            "reopen_rate_percent": 0.0,
        },
        {
            "key": "general",
            "completed": 1,
            "csat_responses": 1,
            "csat_percent": 100.0,
            "nps_responses": 1,
            "nps": -100.0,
            "first_responses": 0,
            "first_response_avg_s": 0.0,
            "first_response_p90_s": 0.0,
            "resolution_avg_s": 300.0,
            "resolution_p90_s": 300.0,
            "reopened": 1,
            "reopen_rate_percent": 100.0,
        },
    ]


@pytest.mark.integration
def test_table_of_everything_and_by_channel(kafka_bootstrap: str, published: None) -> None:
    everything = report(kafka_bootstrap, "--since", "2025-03-03T00:00:00Z", "--until", "2025-03-04")
    by_channel = report(kafka_bootstrap, "--since", "2025-03-03", "--until", "2025-03-04", "--group-by", "channel")

    assert everything.returncode == 0, everything.stderr
    assert everything.stdout.splitlines() == [
        "service report 2025-03-03T00:00:00Z .. 2025-03-04T00:00:00Z by all "
        "(contacts completed in the range; reopen window 7 days)",
        "",
        "all  completed       CSAT        NPS  first response avg/p90  resolution avg/p90   reopened",
        "all          3  66.7% (3)  +33.3 (3)       2m00s / 3m00s (2)     15m00s / 30m00s  1 (33.3%)",
    ]
    assert by_channel.stdout.splitlines()[2:] == [
        "channel   completed        CSAT         NPS  first response avg/p90  resolution avg/p90   reopened",
        "email             2  100.0% (2)    +0.0 (2)       1m00s / 1m00s (1)      7m30s / 10m00s  1 (50.0%)",
        "telegram          1    0.0% (1)  +100.0 (1)       3m00s / 3m00s (1)     30m00s / 30m00s   0 (0.0%)",
    ]


@pytest.mark.integration
def test_the_day_before_counts_only_its_own_contact(kafka_bootstrap: str, published: None) -> None:
    result = report(kafka_bootstrap, "--since", "2025-03-02", "--until", "2025-03-03", "-o", "json")

    (row,) = json.loads(result.stdout)["rows"]
    assert (row["completed"], row["csat_responses"], row["csat_percent"], row["nps_responses"]) == (1, 1, 0.0, 0)


def test_times_are_iso_dates_or_date_times_in_utc_unless_they_say_otherwise() -> None:
    assert instant("2025-03-03") == DAY
    assert instant("2025-03-03T02:00") == DAY + 7200
    assert instant("2025-03-03T03:00:00+01:00") == DAY + 7200
    assert instant("2025-03-03T02:00:00Z") == DAY + 7200


def test_the_range_defaults_to_the_7_days_before_until_or_now() -> None:
    now = DAY + 12345
    assert period_of(None, None, now) == period_of(now - 7 * 86400, now, 0)
    assert period_of(None, DAY, now).since == DAY - 7 * 86400
    assert period_of(DAY, None, now).until == now


def test_a_bad_date_or_grouping_is_refused_before_reading_anything() -> None:
    for args in (
        ["--since", "last tuesday"],
        ["--group-by", "customer"],
        ["--since", "2025-03-04", "--until", "2025-03-03"],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "services.router.report", *args], capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 2, args
        assert result.stderr.startswith("usage: report"), result.stderr
