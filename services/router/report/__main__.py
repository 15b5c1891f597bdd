"""`report` (or `python -m services.router.report`): CSAT, NPS, first response and resolution times and the
reopen rate of the contacts completed in a time range, read from routing.events and contacts.feedback.

report                                        the last 7 days, all contacts together
report --since 2026-11-01 --until 2026-11-08 --group-by queue
report --since 2026-11-24T08:00 --group-by agent -o json

Times are ISO-8601 dates or date-times, UTC unless they carry an offset; the range is [since, until).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import UTC, datetime

from kafka.errors import KafkaError
from pydantic import Field

from contactrouting.config import ServiceSettings, load_settings
from contactrouting.kafka_io import ReadIncomplete
from contactrouting.logs import configure_logging
from services.router.domain.service_report import ALL, GROUPINGS, Period
from services.router.report.rendering import DAY_S, render_json, render_text
from services.router.report.topic_reader import read_ledger

EXIT_UNAVAILABLE = 3
DEFAULT_RANGE_S = 7 * DAY_S


class ReportSettings(ServiceSettings):
    report_read_timeout_s: float = Field(default=60.0, gt=0, description="Time allowed to read the topics.")


def instant(text: str) -> float:
    """An ISO-8601 date or date-time as epoch seconds; without an offset it is UTC."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 date or date-time: {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def period_of(since: float | None, until: float | None, now: float) -> Period:
    """The range asked for; a missing end is now, a missing start is 7 days before the end."""
    end = now if until is None else until
    return Period(end - DEFAULT_RANGE_S if since is None else since, end)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="report", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--since", type=instant, help="start of the range (default: 7 days before --until)")
    parser.add_argument("--until", type=instant, help="end of the range, exclusive (default: now)")
    parser.add_argument("--group-by", choices=GROUPINGS, default=ALL, help="one row per group (default: all)")
    parser.add_argument(
        "--reopen-window-days",
        type=float,
        default=7.0,
        help="a contact is reopened when its conversation comes back within this many days (default: 7)",
    )
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    if args.reopen_window_days <= 0:
        parser.error("--reopen-window-days must be positive")
    args.period = period_of(args.since, args.until, time.time())
    if args.period.since >= args.period.until:
        parser.error("--since must be before --until")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = load_settings(ReportSettings)
    configure_logging("report", settings)
    if settings.log_level.upper() != "DEBUG":
        # kafka-python logs every reconnect attempt as an error; a command line tool reports the outcome once.
        logging.getLogger("kafka").setLevel(logging.CRITICAL)
    try:
        ledger = read_ledger(settings, settings.report_read_timeout_s)
    except (KafkaError, ReadIncomplete) as error:
        print(f"report: cannot read the topics from {settings.kafka_bootstrap_servers}: {error}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    reopen_window_s = args.reopen_window_days * DAY_S
    rows = ledger.report(args.period, args.group_by, reopen_window_s)
    render = render_json if args.output == "json" else render_text
    print(render(rows, args.period, args.group_by, reopen_window_s))
    return 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
