"""`python -m fuzz [--cases N] [--only TARGET ...] [--jobs J]`: every campaign, a summary table, exit 1 on any
crash or hang. With --jobs, campaigns run in that many child processes at once (one target each)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
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
    parser.add_argument("--jobs", type=int, default=1, help="campaigns to run at once, each in its own process")
    parser.add_argument("--tally-file", type=Path, help=argparse.SUPPRESS)  # a child's result, for its parent
    args = parser.parse_args(argv)
    names = args.only or list(FACTORIES)

    if args.jobs > 1 and len(names) > 1:
        tallies = _in_parallel(names, args.cases, args.crash_dir, args.jobs)
    else:
        tallies = []
        for name in names:
            target = FACTORIES[name]()
            print(f"[{name}] {args.cases} cases, corpus {len(target.corpus())}", flush=True)
            every = max(1, args.cases // 10)
            tallies.append(run_campaign(target, args.cases, args.crash_dir, _progress, every))
    if args.tally_file is not None:  # a child: its parent prints the table
        args.tally_file.write_text(json.dumps([tally.to_json() for tally in tallies]))
        return 1 if any(tally.failed for tally in tallies) else 0
    print()
    print(summary_table(tallies))
    failed = [tally for tally in tallies if tally.failed]
    for tally in failed:
        for path in tally.saved[:3]:
            print(f"  {tally.target}: failing case saved to {path}")
        if len(tally.saved) > 3:
            print(f"  {tally.target}: {len(tally.saved) - 3} more in {tally.saved[0].parent}")
    return 1 if failed else 0


def _in_parallel(names: list[str], cases: int, crash_dir: Path, jobs: int) -> list[Tally]:
    """One child per target, at most `jobs` at a time; their progress lines interleave, each names its target."""
    results = Path(tempfile.mkdtemp(prefix="fuzz-tallies-"))
    waiting = list(names)
    running: list[subprocess.Popen[bytes]] = []
    while waiting or running:
        while waiting and len(running) < jobs:
            name = waiting.pop(0)
            command = [sys.executable, "-m", "fuzz", "--only", name, "--cases", str(cases)]
            command += ["--crash-dir", str(crash_dir), "--tally-file", str(results / f"{name}.json")]
            running.append(subprocess.Popen(command))
        time.sleep(0.2)
        running = [child for child in running if child.poll() is None]
    tallies: list[Tally] = []
    for name in names:
        path = results / f"{name}.json"
        if path.exists():
            tallies.extend(Tally.from_json(item) for item in json.loads(path.read_text()))
        else:  # the child itself died: that is a crash of the campaign, never a silent gap in the table
            tallies.append(Tally(name, crashes=Tally.counter({"campaign process died": 1})))
    return tallies


def _progress(tally: Tally, total: int) -> None:
    rate = tally.cases / max(1e-9, time.perf_counter() - tally.started_at)
    print(
        f"[{tally.target}] {tally.cases}/{total} events={tally.events} rejections={sum(tally.rejections.values())} "
        f"crashes={sum(tally.crashes.values())} hangs={tally.hangs} ({rate:.0f} cases/s)",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
