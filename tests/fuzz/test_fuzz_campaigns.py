"""A fast run of every fuzz campaign (`make fuzz` runs the full 100k cases each): no crash, no hang.

The corpus runs first as explicit examples, so every crash once found stays covered here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from fuzz.campaign import Tally, run_campaign
from fuzz.report import summary_table
from fuzz.targets import FACTORIES

QUICK_CASES = 300
_GRPC = {"grpc_skills_admin", "grpc_agent_desk", "grpc_routing_admin"}


@dataclass(frozen=True)
class OpenCrash:
    """A crash the campaigns found and reported to the service's owner, not fixed yet."""

    target: str
    corpus_file: str
    signature: str  # part of the campaign's crash signature
    raises: type[BaseException]
    reason: str


_MIME_FIX = "services/email_gateway/domain/parsing.py _header must catch AttributeError too (stdlib email bugs)"
_POLICY_YAML_FIX = (
    "services/router/domain/policy.py load_policy must turn what PyYAML's constructors raise for tagged scalars "
    "(ValueError, KeyError, IndexError, AttributeError, TypeError) into PolicyError"
)
OPEN_CRASHES = (
    OpenCrash(
        "mime",
        "crash-group-syntax-from.eml",
        "AttributeError at headerregistry.py",
        AttributeError,
        f"parse_mail lets AttributeError escape for 'From: a: b; c'; {_MIME_FIX}",
    ),
    OpenCrash(
        "mime",
        "crash-obs-phrase-display-name.eml",
        "AttributeError at _header_value_parser.py",
        AttributeError,
        f"parse_mail lets AttributeError escape for 'From: a.: <x@y.z>'; {_MIME_FIX}",
    ),
    OpenCrash(
        "routing_policy",
        "crash-not-utf8.yaml",
        "UnicodeDecodeError",
        UnicodeDecodeError,
        "load_policy lets UnicodeDecodeError escape for a file that is not UTF-8; "
        "services/router/domain/policy.py load_policy must catch it with OSError",
    ),
    *(
        OpenCrash("routing_policy", file, "constructor.py", raises, f"{file}: {_POLICY_YAML_FIX}")
        for file, raises in (
            ("crash-yaml-empty-tagged-float.yaml", IndexError),
            ("crash-yaml-unknown-tagged-bool.yaml", KeyError),
            ("crash-yaml-impossible-timestamp.yaml", ValueError),
            ("crash-yaml-empty-tagged-timestamp.yaml", AttributeError),
        )
    ),
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
    known = [crash.signature for crash in OPEN_CRASHES if crash.target == name]
    unexpected = [signature for signature in tally.crashes if not any(part in signature for part in known)]
    assert not unexpected and tally.hangs == 0, summary_table([tally])


@pytest.mark.parametrize(
    "crash",
    [
        pytest.param(
            crash,
            id=crash.corpus_file,
            marks=[
                *_integration(crash.target),
                pytest.mark.xfail(strict=True, raises=crash.raises, reason=crash.reason),
            ],
        )
        for crash in OPEN_CRASHES
    ],
)
def test_reported_crash_is_fixed(crash: OpenCrash) -> None:
    target = FACTORIES[crash.target]()
    case = target.decode((target.corpus_dir / crash.corpus_file).read_bytes())

    with target.environment():
        target.run_case(case)
