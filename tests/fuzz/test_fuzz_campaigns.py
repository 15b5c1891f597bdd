"""A fast run of every fuzz campaign (`make fuzz` runs the full 100k cases each): no crash, no hang.

The corpus runs first as explicit examples, so every crash once found stays covered here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fuzz.campaign import Tally, run_campaign
from fuzz.report import summary_table
from fuzz.targets import FACTORIES

QUICK_CASES = 300
_GRPC = {"grpc_skills_admin", "grpc_agent_desk", "grpc_routing_admin"}


# Crashes the campaigns found, now fixed: each stays in the corpus and is replayed here as a regression test.
FIXED_CRASHES = (
    ("mime", "crash-group-syntax-from.eml"),  # stdlib AttributeError for 'From: a: b; c'
    ("mime", "crash-obs-phrase-display-name.eml"),  # stdlib AttributeError for 'From: a.: <x@y.z>'
    ("routing_policy", "crash-not-utf8.yaml"),
    ("routing_policy", "crash-yaml-empty-tagged-float.yaml"),  # PyYAML constructors raise non-YAMLErrors
    ("routing_policy", "crash-yaml-unknown-tagged-bool.yaml"),
    ("routing_policy", "crash-yaml-impossible-timestamp.yaml"),
    ("routing_policy", "crash-yaml-empty-tagged-timestamp.yaml"),
)


def _quiet(_tally: Tally, _total: int) -> None:
    pass


def _integration(name: str) -> list[pytest.MarkDecorator]:
    return [pytest.mark.integration] if name in _GRPC else []


@pytest.mark.parametrize("name", [pytest.param(name, marks=_integration(name)) for name in FACTORIES])
def test_campaign_ends_every_case_in_an_event_or_a_counted_rejection(name: str, tmp_path: Path) -> None:
    target = FACTORIES[name]()

    tally = run_campaign(target, QUICK_CASES, tmp_path, _quiet, QUICK_CASES)

    assert tally.cases >= QUICK_CASES
    assert tally.events + sum(tally.rejections.values()) > 0
    assert not tally.crashes and tally.hangs == 0, summary_table([tally])


@pytest.mark.parametrize(("name", "corpus_file"), FIXED_CRASHES)
def test_a_fixed_crash_stays_fixed(name: str, corpus_file: str) -> None:
    target = FACTORIES[name]()
    case = target.decode((target.corpus_dir / corpus_file).read_bytes())

    with target.environment():
        target.run_case(case)  # raises Crash if the case escapes as anything but an event or a rejection
