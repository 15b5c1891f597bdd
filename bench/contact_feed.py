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
import queue
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


class ContactFeed:
    """Keeps its SMTP sessions and HTTP connections across steps: connecting is the client's cost, not the
    platform's, and would otherwise eat the load generator's CPU at every step."""

    def __init__(self, target: FeedTarget, workers_per_channel: int) -> None:
        self.target = target
        self.workers = workers_per_channel
        self._smtp_sessions: queue.SimpleQueue[smtplib.SMTP] = queue.SimpleQueue()
        limits = httpx.Limits(max_connections=workers_per_channel, max_keepalive_connections=workers_per_channel)
        self._http = httpx.Client(timeout=30, limits=limits)
        self._webhook_url = f"http://127.0.0.1:{target.webhook_port}/webhooks/meta"

    def close(self) -> None:
        self._http.close()
        while not self._smtp_sessions.empty():
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp_sessions.get().quit()

    def run(self, rate: float, seconds: float) -> StepLog:
        """Sends rate*seconds contacts at `rate` per second in all, half mail, half webhooks; blocks until done."""
        count = max(2, round(rate * seconds))
        prefix = uuid.uuid4().hex[:3]
        log, lock = StepLog(), threading.Lock()
        # A schedule per channel at half the rate: a slow channel cannot hold up the other.
        jobs: list[tuple[Callable[[_Schedule, StepLog, threading.Lock], None], _Schedule]] = [
            (self._mail_worker, _Schedule(rate / 2, count // 2, prefix + "a")),
            (self._webhook_worker, _Schedule(rate / 2, count - count // 2, prefix + "b")),
        ]
        threads = [
            threading.Thread(target=work, args=(schedule, log, lock), daemon=True)
            for work, schedule in jobs
            for _ in range(self.workers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return log

    def _mail_worker(self, schedule: _Schedule, log: StepLog, lock: threading.Lock) -> None:
        smtp: smtplib.SMTP | None = None
        while (item := schedule.take()) is not None:
            _, tag = item
            sender, message = _mail(tag)
            sent_ns = time.time_ns()
            try:
                if smtp is None:
                    smtp = self._smtp_session()
                smtp.mail(sender)
                smtp.rcpt(MAILBOX)
                sent_ns = time.time_ns()
                code, _ = smtp.data(message)
                reason = None if code == 250 else f"smtp_{code}"
            except (smtplib.SMTPException, OSError) as error:
                reason, smtp = f"smtp_{type(error).__name__}", None
            _record(log, lock, tag, sent_ns, reason)
        if smtp is not None:
            self._smtp_sessions.put(smtp)

    def _smtp_session(self) -> smtplib.SMTP:
        if not self._smtp_sessions.empty():
            return self._smtp_sessions.get()
        smtp = smtplib.SMTP("127.0.0.1", self.target.smtp_port, timeout=30)
        smtp.ehlo("bench.example.net")
        return smtp

    def _webhook_worker(self, schedule: _Schedule, log: StepLog, lock: threading.Lock) -> None:
        secret = self.target.meta_app_secret.encode()
        while (item := schedule.take()) is not None:
            index, tag = item
            body = _meta_body(tag, index)
            signature = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
            headers = {"content-type": "application/json", "x-hub-signature-256": signature}
            sent_ns = time.time_ns()
            try:
                status = self._http.post(self._webhook_url, content=body, headers=headers).status_code
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
