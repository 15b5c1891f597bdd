"""The one translation of the Kafka security settings into kafka-python client options.

Every KafkaProducer, KafkaConsumer and KafkaAdminClient the platform builds takes these options, so a service, a
tool and a benchmark reach the same cluster over the same transport with the same identity.
"""

from __future__ import annotations

from typing import Any

from contactrouting.config import ServiceSettings


def kafka_client_options(settings: ServiceSettings) -> dict[str, Any]:
    """security_protocol, ssl_* and sasl_* options for a kafka-python client (only those the protocol uses)."""
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        # The broker's name is checked against its certificate: a CA alone would accept any broker it signed.
        options["ssl_check_hostname"] = True
        if settings.kafka_ssl_cafile is not None:
            options["ssl_cafile"] = str(settings.kafka_ssl_cafile)
        if settings.kafka_ssl_certfile is not None and settings.kafka_ssl_keyfile is not None:
            options["ssl_certfile"] = str(settings.kafka_ssl_certfile)
            options["ssl_keyfile"] = str(settings.kafka_ssl_keyfile)
    if protocol in ("SASL_PLAINTEXT", "SASL_SSL"):
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    return options
