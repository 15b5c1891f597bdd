"""Every overlay is rendered once per session; tests that break something work on a deep copy."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from deploy.manifest import Manifest
from deploy.render import OVERLAYS, KubeObject, Renderer, find_renderer, render_overlay

Objects = list[KubeObject]


@pytest.fixture(scope="session")
def renderer() -> Renderer:
    return find_renderer()


@pytest.fixture(scope="session")
def rendered(renderer: Renderer) -> dict[str, Objects]:
    return {overlay: render_overlay(overlay, renderer) for overlay in OVERLAYS}


@pytest.fixture
def manifest_of(rendered: dict[str, Objects]) -> Callable[[str], Manifest]:
    """A fresh, mutable copy of an overlay's objects."""

    def build(overlay: str) -> Manifest:
        return Manifest(overlay, copy.deepcopy(rendered[overlay]))

    return build


def find(manifest: Manifest, kind: str, name_prefix: str) -> dict[str, Any]:
    """The object of that kind whose name is the prefix, or the prefix plus a generator's hash suffix."""
    matches = [
        obj
        for obj in manifest.of_kind(kind)
        if obj["metadata"]["name"] == name_prefix or obj["metadata"]["name"].startswith(name_prefix + "-")
    ]
    assert len(matches) == 1, f"{kind} {name_prefix}: {[m['metadata']['name'] for m in matches]}"
    return matches[0]


def container(manifest: Manifest, workload: str) -> dict[str, Any]:
    obj = manifest.workload(workload)
    assert obj is not None
    first: dict[str, Any] = obj["spec"]["template"]["spec"]["containers"][0]
    return first
