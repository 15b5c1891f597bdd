"""`python -m fuzz [--cases N] [--only TARGET ...]`: every campaign, a summary table, exit 1 on any crash or hang."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from fuzz.campaign import Tally, run_campaign
from fuzz.report import summary_table

DEFAULT_CASES = 100_000


def main(argv: list[str] | None = None) -> int:
    from fuzz.targets import FACTORIES

    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__)
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES, help="generated cases per target (plus corpus)")
    parser.add_argument("--only", action="append", choices=sorted(FACTORIES), help="run only this target (repeatable)")
    parser.add_argument("--crash-dir", type=Path, default=Path("var/fuzz/crashes"), help="where failing cases go")
    args = parser.parse_args(argv)

    tallies: list[Tally] = []
    for name in args.only or list(FACTORIES):
        target = FACTORIES[name]()
        print(f"[{name}] {args.cases} cases, corpus {len(target.corpus())}", flush=True)
        every = max(1, args.cases // 10)
        tallies.append(run_campaign(target, args.cases, args.crash_dir, _progress, every))
    print()
    print(summary_table(tallies))
    failed = [tally for tally in tallies if tally.failed]
    for tally in failed:
        for path in tally.saved:
            print(f"  {tally.target}: failing case saved to {path}")
    return 1 if failed else 0


def _progress(tally: Tally, total: int) -> None:
    rate = tally.cases / max(1e-9, time.perf_counter() - tally.started_at)
    print(
        f"[{tally.target}] {tally.cases}/{total} events={tally.events} rejections={sum(tally.rejections.values())} "
        f"crashes={sum(tally.crashes.values())} hangs={tally.hangs} ({rate:.0f} cases/s)",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
