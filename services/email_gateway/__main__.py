"""`python -m services.email_gateway`: run the email gateway until SIGTERM or SIGINT."""

from __future__ import annotations

from contactrouting.config import load_settings
from contactrouting.lifecycle import install_stop_signal
from contactrouting.logs import configure_logging
from contactrouting.metrics import setup_metrics
from contactrouting.tracing import setup_tracing
from services.email_gateway.app import EmailGateway
from services.email_gateway.config import EmailGatewaySettings


def main() -> None:
    settings = load_settings(EmailGatewaySettings)
    configure_logging("email_gateway", settings)
    provider = setup_tracing("email_gateway", settings)
    metrics_endpoint = setup_metrics("email_gateway", settings)
    stop = install_stop_signal()
    gateway = EmailGateway(settings)
    gateway.start()
    try:
        stop.wait()
    finally:
        gateway.stop()
        metrics_endpoint.shutdown()
        provider.shutdown()


if __name__ == "__main__":
    main()
