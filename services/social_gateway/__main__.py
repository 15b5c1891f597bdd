"""`python -m services.social_gateway`: signed webhooks in on WEBHOOK_HOST:WEBHOOK_PORT, ContactEvents out on Kafka."""

from __future__ import annotations

import sys

from opentelemetry.sdk.trace import TracerProvider
from pydantic import ValidationError

from contactrouting.config import load_settings
from contactrouting.lifecycle import install_stop_signal
from contactrouting.logs import configure_logging
from contactrouting.metrics import setup_metrics
from contactrouting.tracing import setup_tracing
from services.social_gateway.app import DemoSecretsRefused, run
from services.social_gateway.settings import SocialGatewaySettings, load_config

SERVICE = "social_gateway"


def main() -> int:
    settings = load_settings(SocialGatewaySettings)
    configure_logging(SERVICE, settings)
    try:
        config = load_config(settings.social_gateway_config)
    except (OSError, ValueError, ValidationError) as error:
        print(f"invalid SOCIAL_GATEWAY_CONFIG {settings.social_gateway_config}: {error}", file=sys.stderr)
        return 2
    provider: TracerProvider = setup_tracing(SERVICE, settings)
    meters = setup_metrics(SERVICE, settings)
    stop = install_stop_signal()
    try:
        run(settings, config, stop)
    except DemoSecretsRefused as error:
        print(f"refusing to start: {error}; set DEMO_MODE=true only for local demos", file=sys.stderr)
        return 2
    finally:
        meters.shutdown()
        provider.force_flush()
        provider.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
