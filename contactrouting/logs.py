"""structlog configured once per process: JSON lines carrying service, trace_id, span_id and contact ids.

`contact_id` and `conversation_id` come from, in this order: the event's own keys, structlog contextvars
(`structlog.contextvars.bound_contextvars(contact_id=...)`), and the current span's `contact.id` /
`conversation.id` attributes, so any log line written inside a contact's span is correlated without extra code.
Standard-library loggers (kafka-python, grpc, uvicorn) go through the same processors and renderer.
"""

from __future__ import annotations

import logging
import sys

import structlog
from opentelemetry import trace
from structlog.typing import EventDict, Processor, WrappedLogger

from contactrouting.config import ServiceSettings

# Span attribute -> log key, for the ids that correlate a log line with a contact's journey.
_SPAN_IDS = {"contact.id": "contact_id", "conversation.id": "conversation_id"}


def _add_trace_ids(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    span = trace.get_current_span()
    context = span.get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", format(context.trace_id, "032x"))
        event.setdefault("span_id", format(context.span_id, "016x"))
        # SDK spans expose their attributes; the API's non-recording spans have none.
        attributes = getattr(span, "attributes", None) or {}
        for attribute, key in _SPAN_IDS.items():
            value = attributes.get(attribute)
            if value:
                event.setdefault(key, value)
    return event


def _service(service_name: str) -> Processor:
    # A processor, not a contextvar: threads start with an empty context, and most of our work runs on threads.
    def add_service(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
        event.setdefault("service", service_name)
        return event

    return add_service


def configure_logging(service_name: str, settings: ServiceSettings) -> None:
    level = logging.getLevelName(settings.log_level.upper())
    console = settings.log_format == "console" or (settings.log_format == "auto" and sys.stderr.isatty())
    renderer: Processor = (
        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()) if console else structlog.processors.JSONRenderer()
    )
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        _service(service_name),
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_ids,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    # Third-party libraries speak stdlib logging: same fields and renderer, quiet unless something goes wrong.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(max(level, logging.WARNING))
