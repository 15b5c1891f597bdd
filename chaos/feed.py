"""Contacts sent the way real senders behave: a mail server or a platform retries the same message until acked."""

from __future__ import annotations

import contextlib
import itertools
import smtplib
import threading
import time
from dataclasses import dataclass, field

import httpx

TELEGRAM_SECRET = "demo-telegram-secret"


@dataclass(frozen=True)
class PendingContact:
    """One contact with its exact bytes, resent unchanged on every retry (same Message-ID, same update)."""

    tag: str
    channel: str  # "email" | "telegram"
    payload: bytes


def contact(index: int, run_id: str) -> PendingContact:
    tag = f"tok{run_id}{index:08x}"
    if index % 2 == 0:
        mail = (
            f"From: Customer {index} <customer.{tag}@example.net>\r\nTo: support@example.com\r\n"
            f"Subject: Order question {tag}\r\nMessage-ID: <{tag}@chaos.example.net>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Hello, my parcel has not arrived yet, could you check where it is? Reference {tag}.\r\n"
        )
        return PendingContact(tag, "email", mail.encode())
    chat_id = 5_000_000 + index
    update = (
        f'{{"update_id": {chat_id}, "message": {{"message_id": {index}, "date": {int(time.time())}, '
        f'"chat": {{"id": {chat_id}, "type": "private"}}, '
        f'"from": {{"id": {chat_id}, "is_bot": false, "first_name": "Customer", "language_code": "en"}}, '
        f'"text": "Hello, I cannot log in to the app since this morning, can you help? {tag}"}}}}'
    )
    return PendingContact(tag, "telegram", update.encode())


@dataclass
class FeedReport:
    acked: dict[str, float] = field(default_factory=dict)  # tag -> time of the successful answer
    retries: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    gave_up: list[str] = field(default_factory=list)


class RetryingFeed:
    """Sends `count` contacts at `rate` per second from `workers` threads; each one is retried until acknowledged."""

    def __init__(self, smtp_port: int, webhook_port: int, run_id: str, give_up_after_s: float = 180.0) -> None:
        self.smtp_port, self.webhook_port, self.run_id = smtp_port, webhook_port, run_id
        self.give_up_after_s = give_up_after_s
        self.report = FeedReport()
        self._lock = threading.Lock()

    def run(self, count: int, rate: float, workers: int = 8) -> FeedReport:
        indexes = itertools.count()
        started = time.monotonic()

        def work() -> None:
            smtp: smtplib.SMTP | None = None
            with httpx.Client(timeout=10) as http:
                while (index := next(indexes)) < count:
                    delay = started + index / rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    smtp = self._deliver(contact(index, self.run_id), smtp, http)
            if smtp is not None:
                smtp.close()

        threads = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return self.report

    def _deliver(self, pending: PendingContact, smtp: smtplib.SMTP | None, http: httpx.Client) -> smtplib.SMTP | None:
        deadline = time.monotonic() + self.give_up_after_s
        backoff = 0.1
        while time.monotonic() < deadline:
            if pending.channel == "email":
                reason, smtp = self._send_mail(pending, smtp)
            else:
                reason = self._send_update(pending, http)
            if reason is None:
                with self._lock:
                    self.report.acked[pending.tag] = time.time()
                return smtp
            with self._lock:
                self.report.retries += 1
                self.report.errors[reason] = self.report.errors.get(reason, 0) + 1
            time.sleep(backoff)
            backoff = min(backoff * 2, 2.0)
        with self._lock:
            self.report.gave_up.append(pending.tag)
        return smtp

    def _send_mail(self, pending: PendingContact, smtp: smtplib.SMTP | None) -> tuple[str | None, smtplib.SMTP | None]:
        try:
            if smtp is None:
                smtp = smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=15)
            smtp.sendmail(f"customer.{pending.tag}@example.net", ["support@example.com"], pending.payload)
            return None, smtp
        except smtplib.SMTPResponseException as error:
            _close(smtp)
            return f"smtp_{error.smtp_code}", None
        except (smtplib.SMTPException, OSError) as error:
            _close(smtp)
            return f"smtp_{type(error).__name__}", None

    def _send_update(self, pending: PendingContact, http: httpx.Client) -> str | None:
        try:
            response = http.post(
                f"http://127.0.0.1:{self.webhook_port}/webhooks/telegram/demo-bot",
                content=pending.payload,
                headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET, "content-type": "application/json"},
            )
        except httpx.HTTPError as error:
            return f"http_{type(error).__name__}"
        return None if response.status_code == 200 else f"http_{response.status_code}"


def _close(smtp: smtplib.SMTP | None) -> None:
    """Drops a connection after an error: the sender reconnects, as a mail server does."""
    if smtp is not None:
        with contextlib.suppress(OSError):
            smtp.close()
    return None
