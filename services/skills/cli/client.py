"""A SkillsAdmin client for the CLI: the bearer token on every call, pages followed to the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from contactrouting.grpc_runtime import traced_channel
from contactrouting.v1 import agent_pb2, skills_pb2, skills_pb2_grpc

PAGE_SIZE = 1000


class SkillsClient:
    def __init__(
        self,
        target: str,
        token: str,
        timeout_s: float = 30.0,
        ca_file: Path | None = None,
        cert_file: Path | None = None,
        key_file: Path | None = None,
    ) -> None:
        # TLS when a CA is given (the service's GRPC_TLS_* settings), mTLS with a client certificate too.
        self._channel = traced_channel(target, ca_file, cert_file, key_file)
        self.stub = skills_pb2_grpc.SkillsAdminStub(self._channel)
        self._metadata = (("authorization", f"Bearer {token}"),)
        self._timeout_s = timeout_s

    def call(self, method: str, request: Any) -> Any:
        return getattr(self.stub, method)(request, metadata=self._metadata, timeout=self._timeout_s)

    def agents(self, limit: int | None = None, **filters: Any) -> Iterator[agent_pb2.AgentProfile]:
        request = skills_pb2.ListAgentsRequest(page_size=_page_size(limit), **filters)
        yield from _paged(self, "ListAgents", request, "agents", limit)

    def skills(self, limit: int | None = None) -> Iterator[skills_pb2.Skill]:
        yield from _paged(
            self, "ListSkills", skills_pb2.ListSkillsRequest(page_size=_page_size(limit)), "skills", limit
        )

    def queues(self, limit: int | None = None) -> Iterator[skills_pb2.Queue]:
        yield from _paged(
            self, "ListQueues", skills_pb2.ListQueuesRequest(page_size=_page_size(limit)), "queues", limit
        )

    def close(self) -> None:
        self._channel.close()


def _page_size(limit: int | None) -> int:
    return min(limit, PAGE_SIZE) if limit else PAGE_SIZE


def _paged(client: SkillsClient, method: str, request: Any, field: str, limit: int | None) -> Iterator[Any]:
    returned = 0
    while True:
        response = client.call(method, request)
        for item in getattr(response, field):
            if limit is not None and returned >= limit:
                return
            returned += 1
            yield item
        if not response.next_page_token:
            return
        request.page_token = response.next_page_token
