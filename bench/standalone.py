"""`python -m bench.<name> [--quick] [--json]`: one benchmark on its own, with the same output as inside a run."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from bench.broker import bench_broker
from bench.results import IncompleteResult, figures_of


def progress(message: str) -> None:
    """Progress goes to stderr so stdout carries only the table and, last, the JSON object."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def table(rows: Mapping[str, Mapping[str, Any]]) -> str:
    """A plain text table: one line per benchmark and figure."""
    lines = [f"{'benchmark':<16} {'figure':<34} {'value':>14}", "-" * 66]
    for name, figures in rows.items():
        for key, value in figures.items():
            shown = _number(value) if isinstance(value, int | float) else str(value)
            lines.append(f"{name:<16} {key:<34} {shown:>14}")
    return "\n".join(lines)


def _number(value: float) -> str:
    # Small ratios keep three significant digits; everything else two decimals.
    return f"{value:.3g}" if 0 < abs(value) < 1 else f"{value:,.2f}"


def main(name: str, run: Callable[[bool], Mapping[str, Any]]) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m bench.{name}")
    parser.add_argument("--quick", action="store_true", help="about a tenth of the size, for smoke checks")
    parser.add_argument("--json", action="store_true", help="print only the JSON object")
    options = parser.parse_args()
    with bench_broker():
        reported = dict(run(options.quick))
    try:
        figures_of(name, reported)
    except IncompleteResult as error:
        print(f"incomplete result: {error}", file=sys.stderr)
        print(json.dumps(reported))
        sys.exit(1)
    if not options.json:
        print(table({name: reported}))
    print(json.dumps(reported))
