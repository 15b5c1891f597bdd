"""A service report for people (an aligned table) or for programs (JSON with ISO-8601 UTC times)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime

from services.router.domain.service_report import Period, ServiceRow

DAY_S = 86_400.0
COLUMNS = ("completed", "CSAT", "NPS", "first response avg/p90", "resolution avg/p90", "reopened")


def instant(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def render_json(rows: list[ServiceRow], period: Period, group_by: str, reopen_window_s: float) -> str:
    return json.dumps(
        {
            "since": instant(period.since),
            "until": instant(period.until),
            "group_by": group_by,
            "reopen_window_days": reopen_window_s / DAY_S,
            "rows": [asdict(row) for row in rows],
        },
        indent=2,
        ensure_ascii=False,
    )


def render_text(rows: list[ServiceRow], period: Period, group_by: str, reopen_window_s: float) -> str:
    heading = (
        f"service report {instant(period.since)} .. {instant(period.until)} by {group_by} "
        f"(contacts completed in the range; reopen window {reopen_window_s / DAY_S:g} days)"
    )
    if not rows:
        return f"{heading}\nno contact was completed in the range"
    table = [(group_by, *COLUMNS), *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = [heading, ""]
    for line in table:
        first, *figures = line
        cells = [first.ljust(widths[0]), *(cell.rjust(width) for cell, width in zip(figures, widths[1:], strict=True))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _cells(row: ServiceRow) -> tuple[str, ...]:
    """Figures without a denominator show as "-", with their count of answers or replies beside the rate."""
    return (
        row.key or "-",
        str(row.completed),
        f"{row.csat_percent:.1f}% ({row.csat_responses})" if row.csat_responses else "- (0)",
        f"{row.nps:+.1f} ({row.nps_responses})" if row.nps_responses else "- (0)",
        f"{duration(row.first_response_avg_s)} / {duration(row.first_response_p90_s)} ({row.first_responses})"
        if row.first_responses
        else "- (0)",
        f"{duration(row.resolution_avg_s)} / {duration(row.resolution_p90_s)}" if row.completed else "-",
        f"{row.reopened} ({row.reopen_rate_percent:.1f}%)" if row.completed else "-",
    )
