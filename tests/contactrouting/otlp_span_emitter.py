"""Emits a gateway-like pair of spans through `setup_tracing`, then flushes and exits: the OTLP path test's process."""

from __future__ import annotations

from opentelemetry import trace

from contactrouting.config import ServiceSettings, load_settings
from contactrouting.tracing import setup_tracing


def main() -> None:
    provider = setup_tracing("otlp-probe", load_settings(ServiceSettings))
    tracer = trace.get_tracer("otlp-probe")
    with tracer.start_as_current_span("earlier message of the conversation") as earlier:
        earlier_context = earlier.get_span_context()
    links = [trace.Link(earlier_context)]
    with tracer.start_as_current_span("smtp receive", kind=trace.SpanKind.SERVER, links=links) as span:
        span.set_attribute("contact.id", "c-otlp-1")
        span.set_attribute("conversation.id", "conv-otlp-1")
        span.set_attribute("contact.channel", "email")
        with tracer.start_as_current_span("contacts.inbound publish", kind=trace.SpanKind.PRODUCER) as child:
            child.set_attribute("messaging.destination.name", "contacts.inbound")
    provider.shutdown()  # flushes the batch processor: the spans are sent before the process exits


if __name__ == "__main__":
    main()
