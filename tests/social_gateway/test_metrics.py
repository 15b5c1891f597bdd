"""The gateway's Prometheus endpoint counts contacts, refused signatures, dead letters and skipped items, with no ids
in labels."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import pytest

from devstack.ports import free_port

from .conftest import http, start_gateway

# Platform timestamps a minute old: well inside the gateway's replay window.
SENT_AT = int(time.time()) - 60

pytestmark = pytest.mark.integration

SECRET = {"X-Telegram-Bot-Api-Secret-Token": "demo-telegram-secret"}


def sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_contacts_signature_failures_and_dead_letters(topics: str, tmp_path: Path) -> None:
    metrics_port = free_port()
    gateway = start_gateway(tmp_path, topics, extra_env={"METRICS_PORT": str(metrics_port)})
    url = f"{gateway.url}/webhooks/telegram/demo-bot"
    chat_id = random.randint(10**8, 10**9)
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": SENT_AT,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Ana", "language_code": "en"},
            "text": "Hello, my parcel has not arrived yet.",
        },
    }
    try:
        assert http.post(url, json=update, headers=SECRET).status_code == 200
        assert http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}).status_code == 403
        assert http.post(url, content=b"{oops", headers=SECRET).status_code == 400
        bot_message = {**update["message"], "from": {"id": 7, "is_bot": True}}  # type: ignore[dict-item]
        from_a_bot = {"update_id": 2, "message": bot_message}
        assert http.post(url, json=from_a_bot, headers=SECRET).status_code == 200
        assert http.post(url, json={"update_id": 3, "poll": {"id": "p"}}, headers=SECRET).status_code == 200
        deadline = time.monotonic() + 10
        while True:
            text = http.get(f"http://127.0.0.1:{metrics_port}/metrics").text
            received = sample(text, "contacts_received_total", channel="telegram", language="en")
            if received >= 1 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert received == 1
        assert sample(text, "webhook_signature_failures_total", platform="telegram", verdict="invalid") == 1
        assert sample(text, "contacts_dead_letters_total", source="social_gateway.telegram", reason="json_invalid") == 1
        # Recorded, never routed: a bot's message and an update that is no message at all.
        assert sample(text, "webhook_items_skipped_total", platform="telegram", reason="bot_sender") == 1
        assert sample(text, "webhook_items_skipped_total", platform="telegram", reason="unsupported") == 1
        assert str(chat_id) not in text
    finally:
        gateway.stop()
