"""skillsctl against the running service over real gRPC: as a process for the operator's paths (console script,
exit codes, the demo file), and through `run()` in this process for the many cases, to keep the file fast."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from contactrouting.agent_tokens import verify_token
from devstack.ports import free_port
from services.skills.cli.commands import EXIT_FAILED, EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE, run

from ..service import ADMIN_TOKEN, READ_TOKEN, RunningSkills, read_profiles

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[3]
DEMO_AGENTS = REPO_ROOT / "config" / "demo_agents.yaml"
CATALOG = {"skills": [{"name": n} for n in ("general", "billing", "vip")], "queues": [{"name": "general"}]}


class Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.returncode, self.stdout, self.stderr = code, out, err


def ctl(skills: RunningSkills, *args: str, token: str = ADMIN_TOKEN) -> Result:
    out, err = io.StringIO(), io.StringIO()
    code = run(["--target", skills.target, "--token", token, *args], out, err)
    return Result(code, out.getvalue(), err.getvalue())


def skillsctl_process(target: str, *args: str, token: str = ADMIN_TOKEN) -> subprocess.CompletedProcess[str]:
    """The installed console script, as an operator runs it, configured through its environment."""
    env = {**os.environ, "SKILLSCTL_TARGET": target, "SKILLS_ADMIN_TOKEN": token}
    script = Path(sys.executable).with_name("skillsctl")
    return subprocess.run([str(script), *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)


def write_yaml(tmp_path: Path, data: dict[str, Any]) -> str:
    path = tmp_path / f"{uuid.uuid4().hex[:8]}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def agent(agent_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": agent_id,
        "display_name": "Agent " + agent_id,
        "skills": {"general": 3},
        "languages": {"en": 4},
        "capacity": {"email": 5, "telegram": 3},
        "queues": ["general"],
        **fields,
    }


def prefix() -> str:
    return f"t{uuid.uuid4().hex[:6]}"


# --- the operator's paths, as processes ---------------------------------------------------------------------------
def test_the_demo_file_applies_and_publishes_every_agent(skills: RunningSkills, profiles_topic: str) -> None:
    result = skillsctl_process(skills.target, "agents", "apply", "-f", str(DEMO_AGENTS))
    assert result.returncode == 0, result.stderr
    assert "agents: 6 created" in result.stdout or "agents: 6 unchanged" in result.stdout

    again = skillsctl_process(skills.target, "agents", "apply", "-f", str(DEMO_AGENTS))
    assert again.returncode == 0, again.stderr
    assert "agents: 6 unchanged" in again.stdout

    demo_ids = {a["id"] for a in yaml.safe_load(DEMO_AGENTS.read_text())["agents"]}
    agents = [
        a for a in json.loads(ctl(skills, "agents", "list", "-o", "json").stdout)["agents"] if a["id"] in demo_ids
    ]
    assert len(agents) == 6
    assert {"en", "hr", "sk", "de"} <= {lang for a in agents for lang in a["languages"]}
    assert {s for a in agents for s in a["skills"]} == {"general", "billing", "vip"}
    assert all(a["capacity"]["email"] == 5 and a["capacity"]["whatsapp"] == 3 for a in agents)

    records = read_profiles(profiles_topic, demo_ids, lambda rs: {r.key for r in rs} == demo_ids)
    assert {r.key for r in records} == demo_ids


def test_an_unreachable_service_exits_3_with_a_hint() -> None:
    result = skillsctl_process(f"127.0.0.1:{free_port()}", "--timeout", "2", "skills", "list")
    assert result.returncode == EXIT_UNAVAILABLE
    assert "UNAVAILABLE" in result.stderr and "is the skills service running" in result.stderr


def test_usage_errors_exit_2(skills: RunningSkills) -> None:
    result = skillsctl_process(skills.target, "agents", "frobnicate")
    assert result.returncode == EXIT_USAGE
    assert "invalid choice" in result.stderr


# --- bulk onboarding ----------------------------------------------------------------------------------------------
def test_a_thousand_agents_apply_in_one_call_and_filters_find_them(skills: RunningSkills, tmp_path: Path) -> None:
    run_id = prefix()
    tag = f"{run_id}_bulk"
    rng = random.Random(7)
    languages = ["en", "hr", "sk", "de", "fr"]
    agents = []
    for n in range(1000):
        spoken = rng.sample(languages, 2)
        agents.append(
            agent(
                f"{run_id}-{n:04d}",
                skills={tag: rng.randint(1, 5), "general": 2},
                languages={spoken[0]: 5, spoken[1]: rng.randint(1, 5)},
                active=rng.random() > 0.1,
            )
        )
    document = {"skills": [*CATALOG["skills"], {"name": tag}], "queues": CATALOG["queues"], "agents": agents}

    started = time.monotonic()
    result = ctl(skills, "agents", "apply", "-f", write_yaml(tmp_path, document))
    elapsed = time.monotonic() - started
    assert result.returncode == EXIT_OK, result.stderr
    assert "agents: 1000 created" in result.stdout
    print(f"1000-agent apply: {elapsed:.1f}s")

    listed = ctl(skills, "agents", "list", "--skill", tag, "--min-proficiency", "4", "--language", "hr", "-o", "json")
    expected = {a["id"] for a in agents if a["skills"][tag] >= 4 and "hr" in a["languages"]}
    assert {a["id"] for a in json.loads(listed.stdout)["agents"]} == expected
    assert 50 < len(expected) < 400

    active = ctl(skills, "agents", "list", "--skill", tag, "--language", "de", "--active-only", "-o", "json")
    expected_active = {a["id"] for a in agents if "de" in a["languages"] and a["active"]}
    assert {a["id"] for a in json.loads(active.stdout)["agents"]} == expected_active

    everything = ctl(skills, "agents", "list", "--skill", tag, "-o", "csv")
    assert len(everything.stdout.splitlines()) == 1001

    limited = ctl(skills, "agents", "list", "--skill", tag, "--limit", "5")
    assert len(limited.stdout.splitlines()) == 6  # header + 5

    again = ctl(skills, "agents", "apply", "-f", write_yaml(tmp_path, document))
    assert "agents: 1000 unchanged" in again.stdout


# --- import and export --------------------------------------------------------------------------------------------
def test_yaml_export_applies_back_unchanged(skills: RunningSkills, tmp_path: Path) -> None:
    run_id = prefix()
    ids = [f"{run_id}-{n}" for n in range(3)]
    hours = [{"weekday": 1, "start": "08:00", "end": "16:00"}]
    document = {**CATALOG, "agents": [agent(i, time_zone="Europe/Zagreb", working_hours=hours) for i in ids]}
    assert ctl(skills, "agents", "apply", "-f", write_yaml(tmp_path, document)).returncode == EXIT_OK

    exported = ctl(skills, "agents", "get", *ids, "-o", "yaml")
    assert exported.returncode == EXIT_OK
    path = tmp_path / "export.yaml"
    path.write_text(exported.stdout)
    again = ctl(skills, "agents", "apply", "-f", str(path))
    assert again.returncode == EXIT_OK, again.stderr
    assert "agents: 3 unchanged" in again.stdout


def test_csv_export_edit_and_import(skills: RunningSkills, tmp_path: Path) -> None:
    run_id = prefix()
    ids = [f"{run_id}-{n}" for n in range(2)]
    ctl(skills, "agents", "apply", "-f", write_yaml(tmp_path, {**CATALOG, "agents": [agent(i) for i in ids]}))

    exported = ctl(skills, "agents", "get", *ids, "-o", "csv").stdout
    assert exported.splitlines()[0] == "id,display_name,skills,languages,capacity,queues,active,time_zone,working_hours"
    assert f"{ids[0]},Agent {ids[0]},general:3,en:4,email:5;telegram:3,general,true,," in exported
    edited = exported.replace(f"{ids[1]},Agent {ids[1]},general:3", f"{ids[1]},Agent {ids[1]},general:5;billing:2")
    path = tmp_path / "agents.csv"
    path.write_text(edited)

    result = ctl(skills, "agents", "apply", "-f", str(path))
    assert result.returncode == EXIT_OK, result.stderr
    assert f"agent/{ids[1]} configured" in result.stdout
    assert "agents: 1 configured, 1 unchanged" in result.stdout
    shown = json.loads(ctl(skills, "agents", "get", ids[1], "-o", "json").stdout)["agents"][0]
    assert shown["skills"] == {"general": 5, "billing": 2}
    assert shown["version"] == 2


def test_apply_reads_stdin(skills: RunningSkills, monkeypatch: pytest.MonkeyPatch) -> None:
    agent_id = f"{prefix()}-stdin"
    monkeypatch.setattr(sys, "stdin", io.StringIO(yaml.safe_dump([agent(agent_id)])))
    ctl(skills, "skills", "apply", "-f", write_yaml(Path(os.environ.get("TMPDIR", "/tmp")), CATALOG))
    result = ctl(skills, "agents", "apply", "-f", "-")
    assert result.returncode == EXIT_OK, result.stderr
    assert f"agent/{agent_id} created" in result.stdout


# --- skills and queues --------------------------------------------------------------------------------------------
def test_skills_and_queues_list_get_apply_and_delete(skills: RunningSkills, tmp_path: Path) -> None:
    skill, queue = f"{prefix()}_s", f"{prefix()}_q"
    document = {"skills": [{"name": skill, "description": "Tier 2"}], "queues": [{"name": queue}]}
    assert ctl(skills, "skills", "apply", "-f", write_yaml(tmp_path, document)).returncode == EXIT_OK
    table = ctl(skills, "skills", "list").stdout
    assert table.splitlines()[0].split() == ["NAME", "DESCRIPTION", "VERSION"]
    assert any(line.split()[:3] == [skill, "Tier", "2"] for line in table.splitlines())

    document["skills"][0]["description"] = "Tier 3"
    changed = ctl(skills, "skills", "apply", "-f", write_yaml(tmp_path, document))
    assert f"skill/{skill} configured" in changed.stdout
    assert json.loads(ctl(skills, "skills", "get", skill, "-o", "json").stdout)["skills"][0] == {
        "name": skill,
        "description": "Tier 3",
        "version": 2,
    }
    assert yaml.safe_load(ctl(skills, "queues", "get", queue, "-o", "yaml").stdout)["queues"][0]["name"] == queue

    assert ctl(skills, "skills", "delete", skill).stdout == f"skill/{skill} deleted\n"
    assert ctl(skills, "queues", "delete", "-f", write_yaml(tmp_path, document)).returncode == EXIT_OK
    missing = ctl(skills, "queues", "get", queue)
    assert missing.returncode == EXIT_FAILED
    assert "not found" in missing.stderr
    assert ctl(skills, "queues", "delete", queue, "--ignore-not-found").returncode == EXIT_OK


def test_agents_delete_honours_the_expected_version(skills: RunningSkills, tmp_path: Path) -> None:
    agent_id = f"{prefix()}-del"
    ctl(skills, "agents", "apply", "-f", write_yaml(tmp_path, {**CATALOG, "agents": [agent(agent_id)]}))
    stale = ctl(skills, "agents", "delete", agent_id, "--expected-version", "7")
    assert stale.returncode == EXIT_FAILED
    assert "ABORTED" in stale.stderr
    assert ctl(skills, "agents", "delete", agent_id, "--expected-version", "1").returncode == EXIT_OK


# --- errors and exit codes ----------------------------------------------------------------------------------------
def test_a_refused_agent_fails_the_apply_but_not_its_neighbours(skills: RunningSkills, tmp_path: Path) -> None:
    good, bad = f"{prefix()}-good", f"{prefix()}-bad"
    document = {**CATALOG, "agents": [agent(good), agent(bad, skills={"general": 9})]}
    result = ctl(skills, "agents", "apply", "-f", write_yaml(tmp_path, document))
    assert result.returncode == EXIT_FAILED
    assert f"error: agent/{bad}: INVALID_ARGUMENT: agent.skills[0].proficiency: 9 is out of range 1..5" in result.stderr
    assert f"agent/{good} created" in result.stdout
    assert "agents: 1 created, 1 failed" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("agents: [\n", "not valid YAML"),
        ("agents:\n  - id: a\n    display_name: A\n    skils: {general: 3}\n", "agents.0.skils: Extra inputs"),
        ("agents:\n  - id: a\n    display_name: A\n    capacity: {fax: 1}\n", "unknown channel 'fax'"),
        ("agents:\n  - {id: a, display_name: A}\n  - {id: a, display_name: B}\n", "'a' appears twice"),
        ("42\n", "expected a mapping"),
    ],
)
def test_a_broken_file_exits_2_and_sends_nothing(
    skills: RunningSkills, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(content)
    result = ctl(skills, "agents", "apply", "-f", str(path))
    assert result.returncode == EXIT_USAGE
    assert message in result.stderr
    assert str(path) in result.stderr


def test_a_broken_csv_names_the_line(skills: RunningSkills, tmp_path: Path) -> None:
    path = tmp_path / "agents.csv"
    path.write_text("id,display_name,skills\nok,OK,general:3\nbad,Bad,general=3\n")
    result = ctl(skills, "agents", "apply", "-f", str(path))
    assert result.returncode == EXIT_USAGE
    assert "CSV line 3: skills: 'general=3' is not name:number" in result.stderr


def test_a_missing_file_exits_2(skills: RunningSkills, tmp_path: Path) -> None:
    result = ctl(skills, "agents", "apply", "-f", str(tmp_path / "nope.yaml"))
    assert result.returncode == EXIT_USAGE
    assert "cannot read" in result.stderr


def test_tokens_decide_who_may_do_what(skills: RunningSkills, tmp_path: Path) -> None:
    refused = ctl(skills, "skills", "list", token="wrong-token")
    assert refused.returncode == EXIT_UNAVAILABLE
    assert "UNAUTHENTICATED" in refused.stderr
    assert ctl(skills, "skills", "list", token=READ_TOKEN).returncode == EXIT_OK
    write = ctl(
        skills, "skills", "apply", "-f", write_yaml(tmp_path, {"skills": [{"name": prefix()}]}), token=READ_TOKEN
    )
    assert write.returncode == EXIT_FAILED
    assert "PERMISSION_DENIED" in write.stderr


def test_a_skill_in_use_is_not_deleted(skills: RunningSkills, tmp_path: Path) -> None:
    ctl(skills, "agents", "apply", "-f", write_yaml(tmp_path, {**CATALOG, "agents": [agent(f"{prefix()}-uses")]}))
    result = ctl(skills, "skills", "delete", "general")
    assert result.returncode == EXIT_FAILED
    assert "FAILED_PRECONDITION" in result.stderr and "still used by" in result.stderr


# --- agent tokens and republish -----------------------------------------------------------------------------------
def test_agents_token_issues_a_token_the_router_can_verify(
    skills: RunningSkills, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent_id = f"{prefix()}-login"
    ctl(skills, "agents", "apply", "-f", write_yaml(tmp_path, {**CATALOG, "agents": [agent(agent_id)]}))
    monkeypatch.delenv("AGENT_TOKEN_SECRET", raising=False)
    assert ctl(skills, "agents", "token", agent_id).returncode == EXIT_USAGE

    monkeypatch.setenv("AGENT_TOKEN_SECRET", "test-agent-token-secret")
    result = ctl(skills, "agents", "token", agent_id, "--ttl", "30m")
    assert result.returncode == EXIT_OK, result.stderr
    token = result.stdout.strip()
    assert verify_token(token, "test-agent-token-secret", time.time()) == agent_id
    assert verify_token(token, "test-agent-token-secret", time.time() + 29 * 60) == agent_id
    with pytest.raises(ValueError, match="expired"):
        verify_token(token, "test-agent-token-secret", time.time() + 31 * 60)

    unknown = ctl(skills, "agents", "token", f"{prefix()}-nobody")
    assert unknown.returncode == EXIT_FAILED
    assert "NOT_FOUND" in unknown.stderr
    assert ctl(skills, "agents", "token", agent_id, "--ttl", "soon").returncode == EXIT_USAGE


def test_republish_reports_how_many_agents_it_queued(skills: RunningSkills) -> None:
    total = len(json.loads(ctl(skills, "agents", "list", "-o", "json").stdout)["agents"])
    result = ctl(skills, "agents", "republish")
    assert result.returncode == EXIT_OK
    assert result.stdout == f"{total} agents queued for publishing to agents.profiles\n"
