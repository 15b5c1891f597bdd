"""Contacts sent into the platform at a fixed rate, half as mail over SMTP and half as signed Meta webhooks.

The schedule is open-loop: contact i is due at start + i/rate whatever happened to the ones before, so a platform
that slows down shows as growing latency (and a missed rate), never as a politely slower client. Each contact
carries a tag (`tok` + 12 hex digits) in its text; the send time is taken just before SMTP DATA or the HTTP POST.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import smtplib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

META_PAGE_ID = "100000000000001"  # a demo page routed to the general queue
MAILBOX = "support@example.com"


@dataclass(frozen=True)
class FeedTarget:
    smtp_port: int
    webhook_port: int
    meta_app_secret: str


@dataclass
class StepLog:
    """What one step sent: tag -> send time (epoch ns), and failures by reason."""

    sent_ns: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    first_ns: int = 0
    last_ns: int = 0


class _Schedule:
    def __init__(self, rate: float, count: int, prefix: str) -> None:
        self.rate, self.count, self.prefix = rate, count, prefix
        self.started = time.monotonic() + 0.05
        self._next = itertools.count()
        self._lock = threading.Lock()

    def take(self) -> tuple[int, str] | None:
        """The next contact's index and tag after sleeping until it is due; None when the step is over."""
        with self._lock:
            index = next(self._next)
        if index >= self.count:
            return None
        delay = self.started + index / self.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return index, f"tok{self.prefix}{index:08x}"


def _mail(tag: str) -> tuple[str, bytes]:
    sender = f"customer.{tag}@example.net"
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
    message = (
        f"From: Customer {tag[-4:]} <{sender}>\r\nTo: {MAILBOX}\r\nSubject: Question about my order {tag}\r\n"
        f"Message-ID: <{tag}.{uuid.uuid4().hex[:8]}@example.net>\r\nDate: {date}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Hello, I ordered a pair of shoes last week and the delivery has not arrived yet. Could you please tell me "
        f"where my parcel is? Reference {tag}. Thank you, best regards\r\n"
    )
    return sender, message.encode()


def _meta_body(tag: str, index: int) -> bytes:
    now_ms = int(time.time() * 1000)
    psid = str(7_000_000_000_000_000 + int(tag[3:], 16) % 10**15)
    event = {
        "sender": {"id": psid},
        "recipient": {"id": META_PAGE_ID},
        "timestamp": now_ms,
        "message": {
            "mid": f"m_{tag}_{index}",
            "text": f"Hi, the login to your app does not work for me since this morning, can you help? {tag}",
        },
    }
    return json.dumps(
        {"object": "page", "entry": [{"id": META_PAGE_ID, "time": now_ms, "messaging": [event]}]}
    ).encode()


def _mail_worker(target: FeedTarget, schedule: _Schedule, log: StepLog, lock: threading.Lock) -> None:
    smtp: smtplib.SMTP | None = None
    try:
        while (item := schedule.take()) is not None:
            _, tag = item
            sender, message = _mail(tag)
            sent_ns = time.time_ns()
            try:
                if smtp is None:
                    smtp = smtplib.SMTP("127.0.0.1", target.smtp_port, timeout=30)
                    smtp.ehlo("bench.example.net")
                smtp.mail(sender)
                smtp.rcpt(MAILBOX)
                sent_ns = time.time_ns()
                code, _ = smtp.data(message)
                reason = None if code == 250 else f"smtp_{code}"
            except (smtplib.SMTPException, OSError) as error:
                reason, smtp = f"smtp_{type(error).__name__}", None
            _record(log, lock, tag, sent_ns, reason)
    finally:
        if smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()


def _webhook_worker(target: FeedTarget, schedule: _Schedule, log: StepLog, lock: threading.Lock) -> None:
    url = f"http://127.0.0.1:{target.webhook_port}/webhooks/meta"
    with httpx.Client(timeout=30) as client:
        while (item := schedule.take()) is not None:
            index, tag = item
            body = _meta_body(tag, index)
            signature = "sha256=" + hmac.new(target.meta_app_secret.encode(), body, hashlib.sha256).hexdigest()
            headers = {"content-type": "application/json", "x-hub-signature-256": signature}
            sent_ns = time.time_ns()
            try:
                status = client.post(url, content=body, headers=headers).status_code
                reason = None if status == 200 else f"http_{status}"
            except httpx.HTTPError as error:
                reason = f"http_{type(error).__name__}"
            _record(log, lock, tag, sent_ns, reason)


def _record(log: StepLog, lock: threading.Lock, tag: str, sent_ns: int, reason: str | None) -> None:
    with lock:
        if reason is None:
            log.sent_ns[tag] = sent_ns
            log.first_ns = min(log.first_ns or sent_ns, sent_ns)
            log.last_ns = max(log.last_ns, sent_ns)
        else:
            log.failures[reason] = log.failures.get(reason, 0) + 1


def feed(target: FeedTarget, rate: float, seconds: float, workers_per_channel: int) -> StepLog:
    """Sends rate*seconds contacts at `rate` per second in all, alternating mail and webhook; blocks until done."""
    count = max(2, round(rate * seconds))
    prefix = uuid.uuid4().hex[:4]
    # Two schedules at half the rate each: mail and webhooks interleave, and a slow channel cannot hold up the other.
    log, lock = StepLog(), threading.Lock()
    mail_schedule = _Schedule(rate / 2, count // 2, prefix[:2] + "a" + prefix[3])
    hook_schedule = _Schedule(rate / 2, count - count // 2, prefix[:2] + "b" + prefix[3])
    jobs: list[tuple[Callable[..., None], _Schedule]] = [
        (_mail_worker, mail_schedule),
        (_webhook_worker, hook_schedule),
    ]
    threads = [
        threading.Thread(target=work, args=(target, schedule, log, lock), daemon=True)
        for work, schedule in jobs
        for _ in range(workers_per_channel)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return log
