"""IMAP intake for mailboxes hosted elsewhere: IDLE where the server offers it, polling otherwise.

A message is flagged \\Seen (or moved to the processed folder) only after Kafka acknowledged it, so a crash or a
Kafka outage means it is fetched again later; the Message-ID dedupe keeps that from publishing it twice.
"""

from __future__ import annotations

import threading
import time

import structlog
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from sqlalchemy.exc import SQLAlchemyError

from services.email_gateway.config import ImapAccountConfig
from services.email_gateway.intake import MailIntake, Outcome

log = structlog.get_logger()

# Servers drop an IDLE after 30 minutes (RFC 2177); we renew well before, and wake each second to see `stop`.
_IDLE_RENEW_S = 300.0
_RECONNECT_DELAY_S = 5.0


class ImapPoller:
    def __init__(self, account: ImapAccountConfig, password: str, intake: MailIntake, stop: threading.Event) -> None:
        self._account = account
        self._password = password
        self._intake = intake
        self._stop = stop
        self._thread = threading.Thread(target=self._run, name=f"imap-{account.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with IMAPClient(
                    self._account.host, port=self._account.port, ssl=self._account.tls, timeout=30
                ) as client:
                    client.login(self._account.username, self._password)
                    if self._account.processed_folder and not client.folder_exists(self._account.processed_folder):
                        client.create_folder(self._account.processed_folder)
                    client.select_folder(self._account.folder)
                    log.info("imap_connected", account=self._account.name, idle=self._uses_idle(client))
                    self._serve(client)
            except (IMAPClientError, OSError) as error:
                log.warning("imap_connection_failed", account=self._account.name, error=type(error).__name__)
                self._stop.wait(_RECONNECT_DELAY_S)
            except SQLAlchemyError as error:
                # The thread store did not answer: the mail stays unprocessed on the server and is fetched again.
                log.warning("imap_store_failed", account=self._account.name, error=type(error).__name__)
                self._stop.wait(_RECONNECT_DELAY_S)

    def _serve(self, client: IMAPClient) -> None:
        while not self._stop.is_set():
            settled = self._take_new_mail(client)
            if not settled:
                self._stop.wait(_RECONNECT_DELAY_S)  # Kafka is down: try the same mail again shortly
            elif self._uses_idle(client):
                self._idle(client)
            else:
                self._stop.wait(self._account.poll_interval_s)

    def _uses_idle(self, client: IMAPClient) -> bool:
        return self._account.use_idle and client.has_capability("IDLE")

    def _idle(self, client: IMAPClient) -> None:
        """Wait for the server to announce new mail, the poll interval, or `stop`, whichever comes first."""
        deadline = time.monotonic() + min(self._account.poll_interval_s, _IDLE_RENEW_S)
        client.idle()
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                if any(b"EXISTS" in response for response in client.idle_check(timeout=1)):
                    return
        finally:
            client.idle_done()

    def _take_new_mail(self, client: IMAPClient) -> bool:
        """Publish every unprocessed message; False when Kafka could not take one (it stays unprocessed)."""
        criteria = ["ALL"] if self._account.processed_folder else ["UNSEEN"]
        for uid in client.search(criteria):
            if self._stop.is_set():
                return True
            fetched = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {})
            raw = fetched.get(b"BODY[]")
            if not isinstance(raw, bytes):
                continue  # expunged meanwhile
            result = self._intake.receive(raw, [self._account.mailbox], envelope_sender=None)
            if result.outcome is Outcome.DEFERRED:
                return False
            self._mark_processed(client, uid)
            log.info("imap_message_processed", account=self._account.name, uid=uid, outcome=result.outcome.value)
        return True

    def _mark_processed(self, client: IMAPClient, uid: int) -> None:
        if self._account.processed_folder:
            client.move([uid], self._account.processed_folder)
        else:
            client.add_flags([uid], [b"\\Seen"])
