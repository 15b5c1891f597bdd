"""The results file's rules: exactly the issue's figures, finite numbers, errors never passed off as results."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.__main__ import last_json_object
from bench.results import (
    BENCHMARKS,
    FIGURES,
    IncompleteResult,
    RunInfo,
    entry,
    error_entry,
    figures_of,
    load,
    problems,
    write,
)
from bench.stats import percentile

RUN = RunInfo(machine={"cores": 2, "python": "3.11.7"}, git_sha="abc123", started_at="2026-11-25T14:00:00+00:00")


def complete() -> dict[str, dict]:
    return {name: entry(name, {key: 1.5 for key in FIGURES[name]}, RUN) for name in BENCHMARKS}


def test_the_benchmarks_run_in_the_issues_order() -> None:
    assert BENCHMARKS == ("kafka_baseline", "router_core", "email_gateway", "social_gateway", "end_to_end")


def test_an_entry_holds_exactly_the_figures_and_the_run_keys() -> None:
    made = entry("kafka_baseline", {key: 3 for key in FIGURES["kafka_baseline"]}, RUN)
    assert set(made) == {*FIGURES["kafka_baseline"], "machine", "git_sha", "started_at"}
    assert made["produce_per_s"] == 3.0 and isinstance(made["produce_per_s"], float)


@pytest.mark.parametrize(
    "change",
    [
        lambda figures: figures.pop("p99_ms"),
        lambda figures: figures.update(surprise=1.0),
        lambda figures: figures.update(p50_ms=math.nan),
        lambda figures: figures.update(p50_ms=math.inf),
        lambda figures: figures.update(p50_ms="12"),
        lambda figures: figures.update(p50_ms=True),
    ],
    ids=["missing", "extra", "nan", "inf", "string", "bool"],
)
def test_incomplete_or_non_numeric_figures_are_refused(change) -> None:
    figures = {"per_s": 1000.0, "p50_ms": 2.0, "p99_ms": 9.0}
    change(figures)
    with pytest.raises(IncompleteResult):
        figures_of("email_gateway", figures)


def test_a_complete_file_has_no_problems_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    write(path, complete())
    assert problems(load(path)) == []
    assert list(json.loads(path.read_text())) == list(BENCHMARKS)


def test_errors_and_absent_benchmarks_are_problems() -> None:
    results = complete()
    results["router_core"] = error_entry("router_core", "bench/router_core.py does not exist yet", RUN)
    del results["end_to_end"]
    found = problems(results)
    assert any(p.startswith("router_core: error") for p in found)
    assert "end_to_end: absent" in found


def test_a_missing_run_key_is_a_problem() -> None:
    results = complete()
    del results["social_gateway"]["git_sha"]
    results["email_gateway"]["machine"] = {"python": "3.11"}
    assert len(problems(results)) == 2


def test_the_last_json_object_is_found_after_progress_and_a_table() -> None:
    output = "progress {not json}\nfigure  value\n" + json.dumps({"per_s": 1}) + "\n"
    assert last_json_object(output) == {"per_s": 1}
    pretty = "table\n" + json.dumps({"per_s": 2, "p50_ms": 3}, indent=2) + "\n"
    assert last_json_object(pretty) == {"per_s": 2, "p50_ms": 3}


def test_output_without_a_final_json_object_is_incomplete() -> None:
    with pytest.raises(IncompleteResult):
        last_json_object('{"per_s": 1}\ndone\n')


def test_percentile_is_nearest_rank() -> None:
    samples = list(range(1, 101))
    assert percentile(samples, 0.50) == 50
    assert percentile(samples, 0.99) == 99
    assert percentile([7.0], 0.99) == 7.0
