"""skillsctl as an operator runs it: a real process against the running service."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..service import ADMIN_TOKEN, RunningSkills, read_profiles

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[3]
DEMO_AGENTS = REPO_ROOT / "config" / "demo_agents.yaml"


def skillsctl(skills: RunningSkills, *args: str, token: str = ADMIN_TOKEN, stdin: str | None = None):
    env = {**os.environ, "SKILLSCTL_TARGET": skills.target, "SKILLS_ADMIN_TOKEN": token}
    return subprocess.run(
        [sys.executable, "-m", "services.skills.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_demo_file_applies_and_publishes_every_agent(skills: RunningSkills, profiles_topic: str) -> None:
    result = skillsctl(skills, "agents", "apply", "-f", str(DEMO_AGENTS))
    assert result.returncode == 0, result.stderr
    assert "agents: 6 created" in result.stdout

    again = skillsctl(skills, "agents", "apply", "-f", str(DEMO_AGENTS))
    assert again.returncode == 0, again.stderr
    assert "agents: 6 unchanged" in again.stdout

    listed = skillsctl(skills, "agents", "list", "-o", "json")
    agents = json.loads(listed.stdout)["agents"]
    ids = {a["id"] for a in agents}
    assert len(ids) == 6
    languages = {lang for a in agents for lang in a["languages"]}
    assert {"en", "hr", "sk", "de"} <= languages
    assert {s for a in agents for s in a["skills"]} == {"general", "billing", "vip"}
    assert all(a["capacity"]["email"] == 5 and a["capacity"]["whatsapp"] == 3 for a in agents)

    records = read_profiles(profiles_topic, ids, lambda rs: {r.key for r in rs} == ids)
    assert {r.key for r in records} == ids
