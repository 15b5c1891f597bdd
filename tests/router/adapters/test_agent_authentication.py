"""Desk logins with signed agent tokens: the token must be valid, unexpired and issued for the agent logging in."""

from __future__ import annotations

import pytest

from contactrouting.agent_tokens import issue_token
from contactrouting.v1 import agent_desk_pb2
from services.router.adapters.agent_authentication import AgentAuthenticator

SECRET = "a-router-test-secret-0123456789"
NOW = 1_800_000_000.0


def login(agent_id: str, token: str) -> agent_desk_pb2.Login:
    return agent_desk_pb2.Login(agent_id=agent_id, token=token)


def test_a_valid_token_for_the_agent_is_accepted() -> None:
    authenticator = AgentAuthenticator(SECRET, clock=lambda: NOW)
    assert authenticator.refusal(login("ana", issue_token("ana", SECRET, 3600, NOW))) is None


@pytest.mark.parametrize(
    ("agent_id", "token", "code"),
    [
        ("ana", "", "invalid_token"),
        ("ana", "not.a.token", "invalid_token"),
        ("ana", issue_token("ana", "another-secret-0123456789", 3600, NOW), "invalid_token"),
        ("ana", issue_token("marko", SECRET, 3600, NOW), "invalid_token"),
        ("ana", issue_token("ana", SECRET, 60, NOW - 61), "token_expired"),
    ],
)
def test_missing_forged_foreign_or_expired_tokens_are_refused(agent_id: str, token: str, code: str) -> None:
    refusal = AgentAuthenticator(SECRET, clock=lambda: NOW).refusal(login(agent_id, token))
    assert refusal is not None and refusal.code == code


def test_without_a_secret_any_login_may_proceed() -> None:
    authenticator = AgentAuthenticator("")
    assert not authenticator.enforced
    assert authenticator.refusal(login("ana", "")) is None
