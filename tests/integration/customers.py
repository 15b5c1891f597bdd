"""What a customer does in the integration tests: write to the demo Telegram bot through its signed webhook."""

from __future__ import annotations

import time
import uuid

import httpx

from devstack.stack import Stack


def send_telegram(
    stack: Stack, text: str, *, chat_id: int | None = None, first_name: str = "Probe", last_name: str = ""
) -> int:
    """One private message to the demo bot, answered 200 once published; returns the chat id (for follow-ups)."""
    chat_id = chat_id or int(uuid.uuid4().int % 10**9)
    names = {"first_name": first_name, **({"last_name": last_name} if last_name else {})}
    update = {
        "update_id": int(uuid.uuid4().int % 10**9),
        "message": {
            "message_id": int(uuid.uuid4().int % 10**6),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", **names},
            "from": {"id": chat_id, "is_bot": False, **names, "language_code": "en"},
            "text": text,
        },
    }
    response = httpx.post(
        f"http://127.0.0.1:{stack.ports.webhook}/webhooks/telegram/demo-bot",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": "demo-telegram-secret"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return chat_id
