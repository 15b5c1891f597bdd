"""Renders a Kustomize overlay into Kubernetes objects, with a kustomize new enough for our kustomizations.

Kustomize v5 is required (`labels`, `patches` with targets, `configMapGenerator` merges). It is found as, in order:
the binary named by $KUSTOMIZE, a standalone `kustomize` on PATH, or `kubectl kustomize` when kubectl embeds
kustomize v5 or newer. Debian's kubernetes-client (kubectl 1.20, kustomize v2) is too old and is refused.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

K8S_DIR = Path(__file__).resolve().parent / "k8s"
OVERLAYS = ("dev", "prod")
MIN_KUSTOMIZE_MAJOR = 5
_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")

KubeObject = dict[str, Any]


class RendererMissing(RuntimeError):
    """No kustomize v5 here; the message says how to get one."""


@dataclass(frozen=True)
class Renderer:
    argv: tuple[str, ...]
    version: str

    def render(self, kustomization_dir: Path) -> list[KubeObject]:
        result = subprocess.run(
            [*self.argv, str(kustomization_dir)], capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(self.argv)} {kustomization_dir} failed:\n{result.stderr.strip()}")
        return [document for document in yaml.safe_load_all(result.stdout) if document]


def _major(version: str) -> int:
    match = _VERSION.search(version)
    return int(match.group(1)) if match else 0


def _run(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    return result.stdout if result.returncode == 0 else ""


def _standalone(binary: str) -> Renderer | None:
    version = _run([binary, "version"]).strip()
    return Renderer((binary, "build"), version) if _major(version) >= MIN_KUSTOMIZE_MAJOR else None


def _kubectl(binary: str) -> Renderer | None:
    try:
        version = json.loads(_run([binary, "version", "--client", "-o", "json"]) or "{}").get("kustomizeVersion", "")
    except json.JSONDecodeError:
        return None
    return Renderer((binary, "kustomize"), version) if _major(version) >= MIN_KUSTOMIZE_MAJOR else None


def find_renderer() -> Renderer:
    explicit = os.environ.get("KUSTOMIZE")
    if explicit:
        renderer = _standalone(explicit)
        if renderer is None:
            raise RendererMissing(f"KUSTOMIZE={explicit} is not kustomize v{MIN_KUSTOMIZE_MAJOR} or newer")
        return renderer
    for name, probe in (("kustomize", _standalone), ("kubectl", _kubectl)):
        binary = shutil.which(name)
        renderer = probe(binary) if binary else None
        if renderer is not None:
            return renderer
    raise RendererMissing(
        f"no kustomize v{MIN_KUSTOMIZE_MAJOR}+ found: install a kustomize binary (or a kubectl 1.27+, which embeds "
        "kustomize v5) and put it on PATH, or point $KUSTOMIZE at it. Debian's kubernetes-client is too old."
    )


def overlay_dir(name: str) -> Path:
    return K8S_DIR / "overlays" / name


def render_overlay(name: str, renderer: Renderer | None = None) -> list[KubeObject]:
    return (renderer or find_renderer()).render(overlay_dir(name))
