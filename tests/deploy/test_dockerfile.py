from __future__ import annotations

import re
from pathlib import Path

from deploy.validate import DOCKERFILE, lint_dockerfile

REPO_ROOT = DOCKERFILE.parent.parent


def stages(text: str) -> list[str]:
    return re.split(r"(?m)^FROM ", text)[1:]


def test_hadolint_finds_nothing() -> None:
    assert lint_dockerfile() == []


def test_hadolint_does_report_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\n")
    assert any("DL3007" in line for line in lint_dockerfile(bad))


def test_the_runtime_stage_runs_as_a_numeric_non_root_user_without_build_tools() -> None:
    runtime = stages(DOCKERFILE.read_text())[-1]
    user = re.search(r"(?m)^USER (\S+)", runtime)
    assert user is not None
    uid = user.group(1).split(":")[0]
    assert uid.isdigit() and int(uid) > 0
    assert "grpcio-tools" not in runtime and "protoc" not in runtime and "pip install" not in runtime


def test_the_build_context_keeps_what_the_image_needs_and_drops_generated_code() -> None:
    ignore = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    copied = set(re.findall(r"(?m)^COPY (?!--from)(\S+)", DOCKERFILE.read_text()))
    assert "**" in ignore
    assert {f"!{path.rstrip('/')}/" if (REPO_ROOT / path).is_dir() else f"!{path}" for path in copied} <= set(ignore)
    assert "contactrouting/v1/" in ignore


def test_both_stages_share_one_pinned_base_image() -> None:
    bases = {stage.split()[0] for stage in stages(DOCKERFILE.read_text())}
    assert len(bases) == 1
    (base,) = bases
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base)
