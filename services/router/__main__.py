"""`python -m services.router`: the router, configured from env vars, until SIGTERM or SIGINT."""

from __future__ import annotations

import sys
import threading

import structlog
from kafka.errors import KafkaError

from contactrouting.config import load_settings
from contactrouting.lifecycle import install_stop_signal
from contactrouting.logs import configure_logging
from contactrouting.metrics import setup_metrics
from contactrouting.tracing import setup_tracing
from services.router.app import Router, RouterSettings
from services.router.domain import PolicyError

log = structlog.get_logger()


def _stop_on_failure(router: Router, stop: threading.Event) -> None:
    router.failed.wait()
    stop.set()


def main() -> int:
    settings = load_settings(RouterSettings)
    configure_logging("router", settings)
    provider = setup_tracing("router", settings)
    meters = setup_metrics("router", settings)
    stop = install_stop_signal()
    try:
        router = Router(settings)
    except PolicyError as error:
        print(f"router: {error}", file=sys.stderr)
        return 2
    except KafkaError as error:
        log.error("kafka_unreachable", bootstrap_servers=settings.kafka_bootstrap_servers, error=str(error))
        return 1
    # A fatal error inside the router stops the process just like a signal does.
    threading.Thread(target=_stop_on_failure, args=(router, stop), name="failure-watch", daemon=True).start()
    try:
        if router.start(stop):
            stop.wait()
    finally:
        router.shutdown()
        meters.shutdown()
        provider.shutdown()
    return 1 if router.failed.is_set() else 0


if __name__ == "__main__":
    sys.exit(main())
