"""Who may log in at the desk: with AGENT_TOKEN_SECRET set, only the holder of a valid token issued for that
agent (`skillsctl agents token`); without it (local development) any agent with a profile."""

from __future__ import annotations

import time
from collections.abc import Callable

from contactrouting.agent_tokens import ExpiredAgentToken, InvalidAgentToken, verify_token
from contactrouting.v1 import agent_desk_pb2


class AgentAuthenticator:
    def __init__(self, secret: str, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self._clock = clock

    @property
    def enforced(self) -> bool:
        return bool(self._secret)

    def refusal(self, login: agent_desk_pb2.Login) -> agent_desk_pb2.DeskError | None:
        """Why this login is refused, or None when it may proceed."""
        if not self._secret:
            return None
        try:
            agent_id = verify_token(login.token, self._secret, self._clock())
        except ExpiredAgentToken:
            return agent_desk_pb2.DeskError(code="token_expired", message="the agent token has expired")
        except InvalidAgentToken:
            return agent_desk_pb2.DeskError(code="invalid_token", message="a valid agent token is required")
        if agent_id != login.agent_id:
            return agent_desk_pb2.DeskError(code="invalid_token", message="the token was issued for another agent")
        return None
