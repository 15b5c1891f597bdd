"""The summary table printed after the campaigns."""

from __future__ import annotations

from collections.abc import Sequence

from fuzz.campaign import Tally

_COLUMNS = ("target", "cases", "events", "rejections", "crashes", "hangs", "slowest", "time")


def summary_table(tallies: Sequence[Tally]) -> str:
    rows = [
        (
            tally.target,
            str(tally.cases),
            str(tally.events),
            str(sum(tally.rejections.values())),
            str(sum(tally.crashes.values())),
            str(tally.hangs),
            f"{tally.slowest_s * 1000:.0f} ms",
            f"{tally.elapsed_s:.1f} s",
        )
        for tally in tallies
    ]
    widths = [max(len(column), *(len(row[i]) for row in rows)) for i, column in enumerate(_COLUMNS)]
    lines = [_line(_COLUMNS, widths), _line(tuple("-" * width for width in widths), widths)]
    for tally, row in zip(tallies, rows, strict=True):
        lines.append(_line(row, widths))
        for kind, count in tally.rejections.most_common():
            lines.append(f"    rejected {count:>8}  {kind}")
        for signature, count in tally.crashes.most_common():
            lines.append(f"    CRASH    {count:>8}  {signature}")
    return "\n".join(lines)


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    first, *rest = cells
    return "  ".join(
        [first.ljust(widths[0]), *(cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True))]
    )
