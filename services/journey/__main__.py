"""`journey ID` (or `python -m services.journey ID`): the timeline of a contact, conversation or customer."""

from __future__ import annotations

import argparse
import logging
import sys

from kafka.errors import KafkaError

from contactrouting.config import load_settings
from contactrouting.kafka_io import ReadIncomplete
from contactrouting.logs import configure_logging
from services.journey.adapters.report import render_json, render_text
from services.journey.app import JourneySettings, find_journey

EXIT_NOT_FOUND = 1
EXIT_UNAVAILABLE = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="journey",
        description="Print the routing timeline of a contact, conversation or customer, from routing.events "
        "and, when present, the span files under TRACE_DIR.",
    )
    parser.add_argument("id", help="a contact id, a conversation id or a customer id")
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text")
    parser.add_argument("--no-traces", action="store_true", help="do not read the span files")
    args = parser.parse_args(argv)

    settings = load_settings(JourneySettings)
    configure_logging("journey", settings)
    if settings.log_level.upper() != "DEBUG":
        # kafka-python logs every reconnect attempt as an error; a command line tool reports the outcome once.
        logging.getLogger("kafka").setLevel(logging.CRITICAL)
    # No tracing set-up on purpose: a read-only tool's own spans would only land in the files it reads.
    try:
        journey = find_journey(settings, args.id, trace_dir=None if args.no_traces else settings.trace_dir)
    except (KafkaError, ReadIncomplete) as error:
        print(f"journey: cannot read routing.events from {settings.kafka_bootstrap_servers}: {error}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    print(render_json(journey) if args.output == "json" else render_text(journey))
    return 0 if journey.contacts else EXIT_NOT_FOUND


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
