from __future__ import annotations

import pytest

from contactrouting.agent_tokens import ExpiredAgentToken, InvalidAgentToken, issue_token, verify_token

SECRET = "a-secret-of-enough-length"
NOW = 1_760_000_000.0


def test_a_token_verifies_to_its_agent_until_it_expires() -> None:
    token = issue_token("ana.horvat", SECRET, ttl_s=60, now=NOW)
    assert verify_token(token, SECRET, now=NOW) == "ana.horvat"
    assert verify_token(token, SECRET, now=NOW + 59) == "ana.horvat"
    with pytest.raises(ExpiredAgentToken):
        verify_token(token, SECRET, now=NOW + 60)


def test_agent_ids_with_dots_and_unicode_survive_the_round_trip() -> None:
    for agent_id in ("a.b.c", "ivana@example", "željko-1"):
        assert verify_token(issue_token(agent_id, SECRET, 60, NOW), SECRET, NOW) == agent_id


def test_another_secret_is_refused() -> None:
    token = issue_token("ana", SECRET, 60, NOW)
    with pytest.raises(InvalidAgentToken, match="signature"):
        verify_token(token, "another-secret-of-enough-length", NOW)


@pytest.mark.parametrize("part", [0, 1, 2])
def test_tampering_with_any_part_is_refused(part: int) -> None:
    pieces = issue_token("ana", SECRET, 60, NOW).split(".")
    original = issue_token("bob", SECRET, 6000, NOW).split(".")
    pieces[part] = original[part]
    with pytest.raises(InvalidAgentToken):
        verify_token(".".join(pieces), SECRET, NOW)


def test_an_extended_expiry_is_refused_even_though_it_is_in_the_future() -> None:
    encoded_id, expiry, signature = issue_token("ana", SECRET, 60, NOW).split(".")
    with pytest.raises(InvalidAgentToken, match="signature"):
        verify_token(f"{encoded_id}.{int(expiry) + 3600}.{signature}", SECRET, NOW + 120)


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.notanumber.c", "a.1.b.c"])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidAgentToken):
        verify_token(token, SECRET, NOW)


def test_weak_secrets_empty_ids_and_non_positive_ttls_are_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        issue_token("ana", "short", 60, NOW)
    with pytest.raises(ValueError, match="agent_id"):
        issue_token("", SECRET, 60, NOW)
    with pytest.raises(ValueError, match="ttl"):
        issue_token("ana", SECRET, 0, NOW)
