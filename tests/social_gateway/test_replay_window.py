"""The replay window: a validly signed but old message is dead-lettered and counted, never routed."""

from __future__ import annotations

import random
import time

import pytest
from pydantic import ValidationError

from contactrouting.topics import CONTACTS_DEADLETTER, CONTACTS_INBOUND
from contactrouting.v1 import contact_pb2
from services.social_gateway.domain.contact_events import conversation_id
from services.social_gateway.domain.messages import InboundMessage, Normalized, Platform
from services.social_gateway.domain.replay_window import ReplayWindow
from services.social_gateway.settings import LimitsConfig

from .conftest import GatewayProcess, http, read_topic

NOW = 1_800_000_000.0
DAY = 86400.0
SECRET = {"X-Telegram-Bot-Api-Secret-Token": "demo-telegram-secret"}


def message(sent_at_s: float, message_id: str) -> InboundMessage:
    return InboundMessage(Platform.TELEGRAM, "bot", "42", "Ana", "42", message_id, sent_at_s, "hello")


def test_only_messages_sent_before_the_window_are_split_off() -> None:
    inside, edge, old, untimed = (
        message(NOW - DAY, "1"),
        message(NOW - 7 * DAY, "2"),
        message(NOW - 8 * DAY, "3"),
        message(0.0, "4"),
    )
    screened = ReplayWindow(7 * DAY).screen(Normalized((inside, edge, old, untimed)), NOW)
    assert screened.fresh.messages == (inside, edge, untimed)
    assert screened.stale == (old,)


def test_a_zero_window_keeps_everything() -> None:
    ancient = Normalized((message(1.0, "1"),))
    assert ReplayWindow(0).screen(ancient, NOW).fresh == ancient


def test_the_dedupe_store_must_remember_at_least_as_long_as_the_window() -> None:
    with pytest.raises(ValidationError, match="dedupe_retention_days"):
        LimitsConfig(replay_window_days=7, dedupe_retention_days=3)
    assert LimitsConfig(replay_window_days=0, dedupe_retention_days=3).replay_window_days == 0


@pytest.mark.integration
def test_a_signed_update_older_than_the_window_is_dead_lettered_not_routed(
    gateway: GatewayProcess, topics: str
) -> None:
    chat_id = random.randint(10**8, 10**12)
    eight_days_ago = int(time.time() - 8 * DAY)
    update = {
        "update_id": chat_id,
        "message": {
            "message_id": 7,
            "date": eight_days_ago,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Ana"},
            "text": "an old message someone captured and sends again",
        },
    }
    response = http.post(f"{gateway.url}/webhooks/telegram/demo-bot", json=update, headers=SECRET)
    assert response.status_code == 200  # a platform retry would be just as old: do not ask for one
    assert response.json() == {"published": 0, "duplicates": 0, "skipped": 0, "stale": 1}

    (letter,) = read_topic(
        topics,
        CONTACTS_DEADLETTER,
        contact_pb2.DeadLetter,
        keep=lambda record: (
            isinstance(record.message, contact_pb2.DeadLetter) and str(chat_id).encode() in record.message.raw
        ),
        until=lambda letters: len(letters) >= 1,
        settle_s=0.3,
    )
    assert letter.reason == "message older than the replay window"
    assert letter.details["oldest_sent_at_s"] == str(eight_days_ago)
    conversation = conversation_id(Platform.TELEGRAM, "demo-bot", str(chat_id))
    routed = read_topic(
        topics, CONTACTS_INBOUND, contact_pb2.ContactEvent, keep=lambda r: r.key == conversation, settle_s=1.0
    )
    assert routed == []
