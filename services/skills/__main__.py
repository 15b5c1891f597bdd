"""`python -m services.skills`: the skills service, configured from env vars, until SIGTERM or SIGINT."""

from __future__ import annotations

import faulthandler
import signal
import sys

import structlog

from contactrouting.config import load_settings
from contactrouting.lifecycle import install_stop_signal
from contactrouting.logs import configure_logging
from contactrouting.metrics import setup_metrics
from contactrouting.tracing import setup_tracing
from services.skills.adapters.migrations import SchemaTooNew
from services.skills.app import build_service
from services.skills.settings import SkillsSettings

log = structlog.get_logger()


def main() -> int:
    # `kill -USR1 <pid>` writes every thread's stack to stderr: how to see where a stuck relay waits.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    settings = load_settings(SkillsSettings)
    configure_logging("skills", settings)
    provider = setup_tracing("skills", settings)
    meters = setup_metrics("skills", settings)
    stop = install_stop_signal()
    try:
        service = build_service(settings)
    except SchemaTooNew as error:
        log.error("schema_too_new", error=str(error))
        return 2
    service.start()
    log.info("service_ready", grpc=service.address)
    try:
        stop.wait()
    finally:
        log.info("service_stopping")
        service.shutdown()
        meters.shutdown()
        provider.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
