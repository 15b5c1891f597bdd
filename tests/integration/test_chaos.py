"""The reduced chaos suite (`make chaos QUICK=1`): every fault scenario, none may lose or duplicate a contact."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from devstack.stack import REPO_ROOT

pytestmark = pytest.mark.integration

SCENARIOS = {"router_kill9", "gateway_kill9", "broker_outage", "agent_drops", "slow_agent"}


@pytest.mark.timeout(1800)  # five fresh platforms, each under load with its fault: minutes, not seconds
def test_quick_chaos_run_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chaos", "--quick", "--var-dir", str(tmp_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=1500,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert {r["name"] for r in results} == SCENARIOS
    for scenario in results:
        assert scenario["sent"] == 600, scenario
        assert scenario["assigned"] == 600, scenario
        assert scenario["duplicated"] == 0 and scenario["lost"] == 0, scenario
