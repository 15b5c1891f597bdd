"""Bearer tokens in gRPC metadata: the admin token may change things, the read token may only look."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

import grpc


class Role(IntEnum):
    READER = 1
    ADMIN = 2


@dataclass(frozen=True)
class TokenAuthority:
    admin_token: str
    read_token: str

    def role_of(self, token: str) -> Role | None:
        # Constant-time comparisons, so response timing says nothing about how much of a token matched.
        if hmac.compare_digest(token.encode(), self.admin_token.encode()):
            return Role.ADMIN
        if hmac.compare_digest(token.encode(), self.read_token.encode()):
            return Role.READER
        return None

    def require(self, context: grpc.ServicerContext, needed: Role) -> None:
        """Abort the call unless its `authorization: Bearer <token>` grants `needed`."""
        token = bearer_token(context.invocation_metadata() or ())
        if token is None:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing 'authorization: Bearer <token>' metadata")
        role = self.role_of(token or "")
        if role is None:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "unknown token")
        if role is not None and role < needed:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "this call needs the admin token")


def bearer_token(metadata: Iterable[tuple[str, str | bytes]]) -> str | None:
    for key, value in metadata:
        if key == "authorization" and isinstance(value, str) and value.lower().startswith("bearer "):
            return value[len("bearer ") :].strip()
    return None
