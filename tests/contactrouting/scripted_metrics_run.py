"""A tiny service for the scrape test: sets metrics up like a service, records a fixed script, serves until SIGTERM."""

from __future__ import annotations

from contactrouting.config import ServiceSettings, load_settings
from contactrouting.lifecycle import install_stop_signal
from contactrouting.logs import configure_logging
from contactrouting.metrics import (
    AGENTS_BY_PRESENCE,
    CONTACTS_RECEIVED,
    DEAD_LETTERS,
    OFFERS_TIMED_OUT,
    QUEUE_DEPTH,
    QUEUE_LONGEST_WAIT,
    SMTP_REJECTS,
    TIME_TO_OFFER,
    setup_metrics,
)

# Recorded before set-up, as a module-level instrument in a service may be: it must not break, and is not counted.
CONTACTS_RECEIVED.add(100, {"channel": "email", "language": "en"})


def main() -> None:
    stop = install_stop_signal()
    settings = load_settings(ServiceSettings)
    configure_logging("metrics-probe", settings)
    endpoint = setup_metrics("metrics-probe", settings, host="127.0.0.1")
    for _ in range(3):
        CONTACTS_RECEIVED.add(1, {"channel": "email", "language": "hr"})
    CONTACTS_RECEIVED.add(2, {"channel": "telegram", "language": "en"})
    DEAD_LETTERS.add(1, {"source": "email_gateway.smtp", "reason": "unparseable_mime"})
    SMTP_REJECTS.add(1, {"reason": "ana.horvat@example.com"})
    OFFERS_TIMED_OUT.add(1, {"queue": "billing"})
    TIME_TO_OFFER.record(0.2, {"queue": "billing", "channel": "email"})
    TIME_TO_OFFER.record(12.0, {"queue": "billing", "channel": "email"})
    QUEUE_DEPTH.observe_with(lambda: [(4, {"queue": "general"}), (0, {"queue": "vip"})])
    QUEUE_LONGEST_WAIT.observe_with(lambda: [(37.5, {"queue": "general"})])
    AGENTS_BY_PRESENCE.observe_with(lambda: [(2, {"presence": "available"}), (1, {"presence": "away"})])
    print(f"ready {endpoint.port}", flush=True)
    stop.wait()
    endpoint.shutdown()


if __name__ == "__main__":
    main()
