from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from deploy.render import OVERLAYS, RendererMissing, find_renderer

from .conftest import Objects

EXPECTED_NAMESPACE = {"dev": "contactrouting-dev", "prod": "contactrouting"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_lands_in_the_overlay_namespace(rendered: dict[str, Objects], overlay: str) -> None:
    stray = [
        f"{obj['kind']}/{obj['metadata']['name']}"
        for obj in rendered[overlay]
        if obj["kind"] != "Namespace" and obj["metadata"].get("namespace") != EXPECTED_NAMESPACE[overlay]
    ]
    assert stray == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_config_reference_resolves_to_a_rendered_object(rendered: dict[str, Objects], overlay: str) -> None:
    # Secrets that operators create in prod are the only names allowed to point outside the overlay.
    created_by_operators = (
        {"router-secrets", "skills-secrets", "social-gateway-secrets", "email-gateway-secrets", "feedback-secrets"}
        if overlay == "prod"
        else set()
    )
    # The Strimzi User Operator writes each KafkaUser's password to a Secret of the user's name.
    created_by_operators |= {obj["metadata"]["name"] for obj in rendered[overlay] if obj["kind"] == "KafkaUser"}
    names = {(obj["kind"], obj["metadata"]["name"]) for obj in rendered[overlay]}
    dangling = set()
    for obj in rendered[overlay]:
        text = json.dumps(obj)
        for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef"), ("Secret", "secretKeyRef")):
            for chunk in text.split(f'"{key}": {{')[1:]:
                name = chunk.split('"name": "', 1)[1].split('"', 1)[0]
                if (kind, name) not in names and name not in created_by_operators:
                    dangling.add(f"{kind}/{name}")
    assert dangling == set()


def test_dev_generates_its_secrets_and_prod_generates_none(rendered: dict[str, Objects]) -> None:
    def secret_names(overlay: str) -> set[str]:
        return {obj["metadata"]["name"].rsplit("-", 1)[0] for obj in rendered[overlay] if obj["kind"] == "Secret"}

    assert secret_names("dev") == {
        "postgresql-credentials",
        "email-gateway-secrets",
        "feedback-secrets",
        "router-secrets",
        "skills-secrets",
        "social-gateway-secrets",
    }
    assert secret_names("prod") == set()


def _fake_kubectl(directory: Path, kustomize_version: str) -> None:
    script = directory / "kubectl"
    payload = json.dumps({"kustomizeVersion": kustomize_version})
    script.write_text(f"#!/bin/sh\necho '{payload}'\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_an_old_kubectl_kustomize_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Debian's kubernetes-client 1.20 embeds kustomize v2, which knows neither `labels` nor targeted patches.
    _fake_kubectl(tmp_path, "v2.0.3")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("KUSTOMIZE", raising=False)
    with pytest.raises(RendererMissing, match="Debian's kubernetes-client is too old"):
        find_renderer()


def test_kubectl_with_kustomize_v5_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_kubectl(tmp_path, "v5.4.2")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("KUSTOMIZE", raising=False)
    renderer = find_renderer()
    assert renderer.argv == (str(tmp_path / "kubectl"), "kustomize")
    assert renderer.version == "v5.4.2"
