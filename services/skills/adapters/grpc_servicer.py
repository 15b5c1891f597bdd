"""gRPC SkillsAdmin: proto in, a store call, proto out; domain errors become status codes."""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import grpc
import structlog
from sqlalchemy.exc import OperationalError

from contactrouting.v1 import agent_pb2, skills_pb2, skills_pb2_grpc
from services.skills.adapters.agent_store import AgentStore
from services.skills.adapters.catalog_store import CatalogStore
from services.skills.adapters.grpc_auth import Role, TokenAuthority
from services.skills.adapters.proto_mapping import (
    agent_from_proto,
    agent_to_proto,
    queue_from_proto,
    queue_to_proto,
    skill_from_proto,
    skill_to_proto,
)
from services.skills.domain.errors import (
    AlreadyExists,
    InUse,
    InvalidField,
    NotFound,
    SkillsError,
    VersionConflict,
)
from services.skills.domain.model import AgentFilter, Queue, Skill
from services.skills.domain.validation import validate_filter, validate_page_size

log = structlog.get_logger()

SERVICE_NAME = "contactrouting.v1.SkillsAdmin"

STATUS_OF: tuple[tuple[type[SkillsError], grpc.StatusCode], ...] = (
    (InvalidField, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (VersionConflict, grpc.StatusCode.ABORTED),
    (InUse, grpc.StatusCode.FAILED_PRECONDITION),
)
# Trailing metadata naming the invalid field, for clients that act on it rather than print the message.
INVALID_FIELD_KEY = "invalid-field"

HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])


def rpc(needed: Role) -> Callable[[HandlerT], HandlerT]:
    """Authorize the call, then run it, turning domain errors into gRPC status codes."""

    def decorate(handler: HandlerT) -> HandlerT:
        @functools.wraps(handler)
        def wrapper(self: SkillsAdminServicer, request: Any, context: grpc.ServicerContext) -> Any:
            self._authority.require(context, needed)
            try:
                return handler(self, request, context)
            except SkillsError as error:
                code = next(code for kind, code in STATUS_OF if isinstance(error, kind))
                if isinstance(error, InvalidField):
                    context.set_trailing_metadata(((INVALID_FIELD_KEY, error.field),))
                context.abort(code, str(error))
            except OperationalError:
                # The database is unreachable or overloaded: the caller may retry, nothing was changed.
                log.exception("database_unavailable", method=handler.__name__)
                context.abort(grpc.StatusCode.UNAVAILABLE, "database unavailable, retry later")

        return wrapper  # type: ignore[return-value]

    return decorate


def encode_page_token(kind: str, after: str | None) -> str:
    if after is None:
        return ""
    return base64.urlsafe_b64encode(f"{kind}:{after}".encode()).decode()


def decode_page_token(kind: str, token: str) -> str | None:
    if not token:
        return None
    try:
        decoded = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidField("page_token", "is not a token returned by this service") from None
    prefix, _, after = decoded.partition(":")
    if prefix != kind or not after:
        raise InvalidField("page_token", f"is not a token returned by a list of {kind}")
    return after


class SkillsAdminServicer(skills_pb2_grpc.SkillsAdminServicer):
    def __init__(
        self,
        agents: AgentStore,
        skills: CatalogStore[Skill],
        queues: CatalogStore[Queue],
        authority: TokenAuthority,
    ) -> None:
        self._agents = agents
        self._skills = skills
        self._queues = queues
        self._authority = authority

    def register(self, server: grpc.Server) -> None:
        skills_pb2_grpc.add_SkillsAdminServicer_to_server(self, server)

    # --- agents ------------------------------------------------------------------------------------------------
    @rpc(Role.ADMIN)
    def CreateAgent(self, request: skills_pb2.CreateAgentRequest, context: Any) -> agent_pb2.AgentProfile:
        return agent_to_proto(self._agents.create(agent_from_proto(request.agent)))

    @rpc(Role.READER)
    def GetAgent(self, request: skills_pb2.GetAgentRequest, context: Any) -> agent_pb2.AgentProfile:
        return agent_to_proto(self._agents.get(request.agent_id))

    @rpc(Role.ADMIN)
    def UpdateAgent(self, request: skills_pb2.UpdateAgentRequest, context: Any) -> agent_pb2.AgentProfile:
        return agent_to_proto(self._agents.update(agent_from_proto(request.agent)))

    @rpc(Role.ADMIN)
    def DeleteAgent(self, request: skills_pb2.DeleteAgentRequest, context: Any) -> skills_pb2.DeleteAgentResponse:
        if request.expected_version < 0:
            raise InvalidField("expected_version", "must not be negative")
        self._agents.delete(request.agent_id, request.expected_version)
        return skills_pb2.DeleteAgentResponse()

    @rpc(Role.READER)
    def ListAgents(self, request: skills_pb2.ListAgentsRequest, context: Any) -> skills_pb2.ListAgentsResponse:
        agent_filter = validate_filter(
            AgentFilter(
                skill=request.skill,
                min_proficiency=request.min_proficiency,
                language=request.language,
                queue=request.queue,
                active_only=request.active_only,
            )
        )
        page = self._agents.list(
            agent_filter, validate_page_size(request.page_size), decode_page_token("agents", request.page_token)
        )
        return skills_pb2.ListAgentsResponse(
            agents=[agent_to_proto(agent) for agent in page.items],
            next_page_token=encode_page_token("agents", page.next_after),
        )

    # --- skills ------------------------------------------------------------------------------------------------
    @rpc(Role.ADMIN)
    def CreateSkill(self, request: skills_pb2.CreateSkillRequest, context: Any) -> skills_pb2.Skill:
        return skill_to_proto(self._skills.create(skill_from_proto(request.skill)))

    @rpc(Role.READER)
    def GetSkill(self, request: skills_pb2.GetSkillRequest, context: Any) -> skills_pb2.Skill:
        return skill_to_proto(self._skills.get(request.name))

    @rpc(Role.ADMIN)
    def UpdateSkill(self, request: skills_pb2.UpdateSkillRequest, context: Any) -> skills_pb2.Skill:
        return skill_to_proto(self._skills.update(skill_from_proto(request.skill)))

    @rpc(Role.ADMIN)
    def DeleteSkill(self, request: skills_pb2.DeleteSkillRequest, context: Any) -> skills_pb2.DeleteSkillResponse:
        self._skills.delete(request.name)
        return skills_pb2.DeleteSkillResponse()

    @rpc(Role.READER)
    def ListSkills(self, request: skills_pb2.ListSkillsRequest, context: Any) -> skills_pb2.ListSkillsResponse:
        page = self._skills.list(validate_page_size(request.page_size), decode_page_token("skills", request.page_token))
        return skills_pb2.ListSkillsResponse(
            skills=[skill_to_proto(skill) for skill in page.items],
            next_page_token=encode_page_token("skills", page.next_after),
        )

    # --- queues ------------------------------------------------------------------------------------------------
    @rpc(Role.ADMIN)
    def CreateQueue(self, request: skills_pb2.CreateQueueRequest, context: Any) -> skills_pb2.Queue:
        return queue_to_proto(self._queues.create(queue_from_proto(request.queue)))

    @rpc(Role.READER)
    def GetQueue(self, request: skills_pb2.GetQueueRequest, context: Any) -> skills_pb2.Queue:
        return queue_to_proto(self._queues.get(request.name))

    @rpc(Role.ADMIN)
    def UpdateQueue(self, request: skills_pb2.UpdateQueueRequest, context: Any) -> skills_pb2.Queue:
        return queue_to_proto(self._queues.update(queue_from_proto(request.queue)))

    @rpc(Role.ADMIN)
    def DeleteQueue(self, request: skills_pb2.DeleteQueueRequest, context: Any) -> skills_pb2.DeleteQueueResponse:
        self._queues.delete(request.name)
        return skills_pb2.DeleteQueueResponse()

    @rpc(Role.READER)
    def ListQueues(self, request: skills_pb2.ListQueuesRequest, context: Any) -> skills_pb2.ListQueuesResponse:
        page = self._queues.list(validate_page_size(request.page_size), decode_page_token("queues", request.page_token))
        return skills_pb2.ListQueuesResponse(
            queues=[queue_to_proto(queue) for queue in page.items],
            next_page_token=encode_page_token("queues", page.next_after),
        )

    # --- publishing --------------------------------------------------------------------------------------------
    @rpc(Role.ADMIN)
    def Republish(self, request: skills_pb2.RepublishRequest, context: Any) -> skills_pb2.RepublishResponse:
        return skills_pb2.RepublishResponse(published=self._agents.republish())
