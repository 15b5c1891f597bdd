"""`python -m bench [--quick] [--only NAME] [--output PATH]`: every benchmark, in order, on one broker.

Each benchmark runs as its own process (`python -m bench.<name> [--quick]`): memory figures are not polluted by
the others, a crash or hang is contained, and a benchmark that does not exist yet is recorded as an error, which
makes the run fail instead of leaving a hole that looks like a result.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from bench.broker import bench_broker
from bench.results import (
    BENCHMARKS,
    DEFAULT_PATH,
    REPO_ROOT,
    IncompleteResult,
    RunInfo,
    entry,
    error_entry,
    load,
    problems,
    write,
)
from bench.standalone import table

# Generous ceilings: a benchmark that runs past them is hung, not slow.
TIMEOUT_S = {True: 180.0, False: 1800.0}
# The baseline's consume rate, handed to end_to_end for `ratio_to_kafka_roundtrip` (same run, same broker).
BASELINE_ENV = "BENCH_KAFKA_CONSUME_PER_S"


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def last_json_object(output: str) -> dict[str, Any]:
    """The JSON object a benchmark prints last (one line or pretty-printed), after its progress and table."""
    decoder = json.JSONDecoder()
    lines = output.splitlines(keepends=True)
    for index in range(len(lines) - 1, -1, -1):
        if not lines[index].lstrip().startswith("{"):
            continue
        text = "".join(lines[index:])
        try:
            value, end = decoder.raw_decode(text.lstrip())
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict) and not text.lstrip()[end:].strip():
            return value
    raise IncompleteResult("printed no JSON object as its last output")


def _echo(stream: IO[str], sink: list[str] | None) -> None:
    """Shows a child's output live, indented under the runner's progress, keeping stdout for parsing."""
    for line in stream:
        if sink is not None:
            sink.append(line)
        print(f"    {line}", end="", flush=True)


def run_one(name: str, quick: bool, env: dict[str, str]) -> dict[str, Any]:
    """Runs `python -m bench.<name>`; returns its figures, or raises with the reason it produced none."""
    if importlib.util.find_spec(f"bench.{name}") is None:
        raise IncompleteResult(f"bench/{name}.py does not exist yet")
    command = [sys.executable, "-m", f"bench.{name}", *(["--quick"] if quick else [])]
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
    )
    assert process.stdout is not None and process.stderr is not None
    stdout: list[str] = []
    readers = [
        threading.Thread(target=_echo, args=(process.stdout, stdout), daemon=True),
        threading.Thread(target=_echo, args=(process.stderr, None), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        code = process.wait(timeout=TIMEOUT_S[quick])
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise IncompleteResult(f"still running after {TIMEOUT_S[quick]:.0f}s; killed") from None
    for reader in readers:
        reader.join(timeout=5)
    if code != 0:
        raise IncompleteResult(f"exited with code {code}")
    return last_json_object("".join(stdout))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="about a tenth of the size, under two minutes in all")
    parser.add_argument("--only", choices=BENCHMARKS, action="append", help="run only this benchmark (repeatable)")
    parser.add_argument("--output", type=Path, default=DEFAULT_PATH, help=f"results file (default {DEFAULT_PATH})")
    options = parser.parse_args()
    names = tuple(name for name in BENCHMARKS if not options.only or name in options.only)
    # With --only, the other benchmarks' earlier entries stay; each carries its own started_at and git_sha.
    results: dict[str, Any] = load(options.output) if options.only else {}
    started = time.monotonic()
    with bench_broker() as bootstrap:
        progress(f"broker {bootstrap}; running {', '.join(names)}{' (quick)' if options.quick else ''}")
        for name in names:
            env = dict(os.environ)
            baseline = results.get("kafka_baseline", {})
            if "consume_per_s" in baseline:
                env[BASELINE_ENV] = str(baseline["consume_per_s"])
            info = RunInfo.now()
            progress(f"{name}: started")
            try:
                results[name] = entry(name, run_one(name, options.quick, env), info)
                progress(f"{name}: done")
            except IncompleteResult as error:
                results[name] = error_entry(name, str(error), info)
                progress(f"{name}: FAILED: {error}")
            write(options.output, results)
    shown = {
        name: {k: v for k, v in results[name].items() if k not in ("machine", "git_sha", "started_at")}
        for name in names
    }
    print()
    print(table(shown))
    failed = problems(results, names)
    progress(f"wrote {options.output} in {time.monotonic() - started:.0f}s")
    for problem in failed:
        progress(f"problem: {problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
