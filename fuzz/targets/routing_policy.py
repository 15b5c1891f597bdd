"""The router's routing-policy loader: YAML text from a file to a validated `RoutingPolicy`, or a PolicyError."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from fuzz.campaign import Event, Rejection, Target, Verdict
from fuzz.strategies import json_values, mutated_bytes, mutated_json
from services.router.domain.policy import PolicyError, load_policy

_TOKENS = [
    b"\n",
    b"  ",
    b"- ",
    b": ",
    b"&a ",
    b"*a",
    b"<<: *a\n",
    b"!!python/object:os.system ",
    b"!!binary ",
    b"!!float ",
    b"!!int ",
    b"!!bool ",
    b"!!timestamp ",
    b"''",
    b"? ",
    b"|\n",
    b">-\n",
    b"---\n",
    b"...\n",
    b"%YAML 1.1\n",
    b"\t",
    b"~",
    b".inf",
    b"-.nan",
    b"0x1F",
    b"1e400",
    b"'",
    b'"',
    b"{",
    b"[",
    b"\xff",
]


def _yaml_text(document: Any) -> bytes:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False).encode("utf-8", "surrogatepass")


class _PolicyFile:
    """One scratch file rewritten per case, so the loader's own file handling is fuzzed too."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="fuzz-policy-")) / "routing_policy.yaml"

    def run_case(self, raw: bytes) -> Verdict:
        self.path.write_bytes(raw)
        try:
            load_policy(self.path)
        except PolicyError as rejection:
            reason = str(rejection).removeprefix(f"{self.path}: ")
            return Rejection(reason.split(":")[0])
        return Event("policy")


def target() -> Target:
    policy_file = _PolicyFile()
    made = Target("routing_policy", st.nothing(), policy_file.run_case, hang_after_s=5.0)
    seeds = made.corpus()
    documents = []
    for seed in seeds:
        try:
            document = yaml.safe_load(seed)
        except Exception:  # seeds include files PyYAML itself fails on; they still run as explicit examples
            continue
        if isinstance(document, dict):
            documents.append(document)
    shapes: list[st.SearchStrategy[bytes]] = [json_values.map(_yaml_text), st.binary(max_size=300)]
    if documents:
        mutated = mutated_json(documents).map(_yaml_text)
        shapes += [mutated, mutated, mutated, mutated_bytes(seeds, _TOKENS)]
    made.strategy = st.one_of(shapes)
    return made
