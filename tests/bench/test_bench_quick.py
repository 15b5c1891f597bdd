"""`python -m bench --quick` runs every benchmark for real and writes a complete, well-formed results file."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench.results import BENCHMARKS, FIGURES, REPO_ROOT

pytestmark = pytest.mark.integration


@pytest.mark.timeout(660)
def test_quick_run_writes_every_figure_of_every_benchmark(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    # The bench starts its own broker and stack on free ports (or uses KAFKA_BOOTSTRAP_SERVERS if set).
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(output)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]

    results = json.loads(output.read_text())
    assert list(results) == list(BENCHMARKS)
    for name, item in results.items():
        assert set(item) == {*FIGURES[name], "machine", "git_sha", "started_at"}, name
        for key in FIGURES[name]:
            value = item[key]
            assert isinstance(value, float) and math.isfinite(value) and value >= 0, (name, key, value)
        assert item["machine"]["cores"] >= 1 and item["machine"]["python"].startswith("3.")
        assert item["git_sha"]
    assert results["kafka_baseline"]["produce_per_s"] > 0
    assert results["end_to_end"]["sustained_contacts_per_s"] > 0
