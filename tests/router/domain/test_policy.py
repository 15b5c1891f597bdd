"""Policy loading: the demo file is valid and says what the product promises; bad files fail with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.router.domain import PolicyError, load_policy, parse_policy

from .builders import policy_data

DEMO_POLICY = Path(__file__).resolve().parents[3] / "config" / "routing_policy.yaml"


def test_demo_policy_defines_the_demo_queues_and_slas() -> None:
    policy = load_policy(DEMO_POLICY)
    names = {q.name for q in policy.queues}
    assert {"general", "billing", "vip"} <= names
    for name in ("general", "billing", "vip"):
        assert name in policy.queue(name).required_skills
    vip = policy.queue("vip")
    assert vip.priority > policy.queue("billing").priority > policy.queue("general").priority
    assert vip.sla_for("email") == 900 and vip.sla_for("whatsapp") == 900
    assert policy.queue("general").sla_for("email") == 24 * 3600
    assert policy.queue("general").sla_for("telegram") == 3600
    assert policy.languages == {"en", "hr", "sk", "de"}
    assert [s.name for s in policy.relaxation] == ["lower_proficiency", "overflow", "fallback_language"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"default_queue": "nowhere"}, "default_queue 'nowhere' is not one of the queues"),
        ({"offer_timeout_s": 0}, "offer_timeout_s"),
        ({"queues": [{"name": "general", "match": [{"channels": ["fax"]}]}]}, "queues.0.match.0.channels"),
        ({"queues": [{"name": "general", "required_skills": {"x": 9}}]}, "outside 1..5"),
        ({"queues": [{"name": "general", "sla_s": {"pigeon": 5}}]}, "unknown channel(s) ['pigeon']"),
        ({"queues": [{"name": "general"}, {"name": "general"}]}, "duplicate queue name(s) ['general']"),
        ({"relaxation": [{"name": "b", "after_s": 9}, {"name": "a", "after_s": 1}]}, "ordered by after_s"),
        ({"surprise": True}, "surprise: Extra inputs are not permitted"),
    ],
)
def test_invalid_policies_are_rejected_with_the_field_and_reason(change: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(policy_data(**change), "test.yaml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("test.yaml: invalid routing policy")


def test_unreadable_or_non_yaml_files_raise_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read routing policy"):
        load_policy(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("queues: [unclosed\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(broken)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just text\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="mapping at the top level"):
        load_policy(scalar)


def test_queue_relaxation_overrides_the_policy_wide_steps() -> None:
    policy = parse_policy(policy_data())
    assert policy.steps_for(policy.queue("general"))[0].name == "lower_proficiency"
    custom = parse_policy(policy_data(queues=[{"name": "general", "relaxation": [{"name": "only", "after_s": 5}]}]))
    assert [s.name for s in custom.steps_for(custom.queue("general"))] == ["only"]


def test_reply_windows_name_channels_and_fall_back_to_social() -> None:
    policy = parse_policy(policy_data(reply_window_s={"social": 86400, "whatsapp": 3600}), "test")
    assert (policy.reply_window_for("whatsapp"), policy.reply_window_for("messenger")) == (3600, 86400)
    assert policy.reply_window_for("email") == float("inf")
    with pytest.raises(PolicyError, match="reply_window_s: unknown channel"):
        parse_policy(policy_data(reply_window_s={"fax": 60}), "test")
