"""`python -m chaos [--quick] [--only NAME]`: every fault scenario, a summary table, and results in JSON."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from chaos.scenarios import FULL, QUICK, SCENARIOS, ScenarioResult, run_scenario
from devstack.stack import REPO_ROOT


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def summary(results: list[ScenarioResult]) -> str:
    header = (
        f"{'scenario':<16}{'sent':>7}{'assigned':>10}{'duplicated':>12}{'lost':>6}{'max recover':>13}{'retries':>9}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.name:<16}{r.sent:>7}{r.assigned:>10}{r.duplicated:>12}{r.lost:>6}{r.max_recover_s:>11.1f} s"
            f"{r.retries:>9}  {'PASS' if r.passed else 'FAIL'}  {'; '.join(r.notes)}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a reduced run (600 contacts per scenario)")
    parser.add_argument("--only", choices=[s.name for s in SCENARIOS], action="append")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--var-dir", type=Path, default=REPO_ROOT / "var" / "chaos")
    parser.add_argument("--results", type=Path, default=None, help="default: <var-dir>/results.json")
    options = parser.parse_args()
    size = QUICK if options.quick else FULL
    chosen = [s for s in SCENARIOS if not options.only or s.name in options.only]
    results = []
    for index, scenario in enumerate(chosen, start=1):
        progress(f"scenario {index}/{len(chosen)}: {scenario.name}: {scenario.description}, {size.contacts} contacts")
        result = run_scenario(scenario, size, options.var_dir, progress, options.seed + index)
        progress(f"{scenario.name}: {'PASS' if result.passed else 'FAIL'}")
        results.append(result)
    print("\n" + summary(results), flush=True)
    path = options.results or options.var_dir / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([{**asdict(r), "passed": r.passed} for r in results], indent=2))
    print(f"\nresults written to {path}")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
