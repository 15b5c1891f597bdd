"""AgentDesk.Connect: one bidirectional stream per agent, translated to and from switchboard calls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import grpc
import structlog

from contactrouting.v1 import agent_desk_pb2, agent_desk_pb2_grpc
from services.router.adapters.agent_authentication import AgentAuthenticator
from services.router.adapters.desk_message_mapping import presence_from_enum
from services.router.adapters.desk_session import DeskSession
from services.router.adapters.malformed_requests import MalformedMessage
from services.router.adapters.switchboard import Switchboard

log = structlog.get_logger()

SERVICE_NAME = agent_desk_pb2.DESCRIPTOR.services_by_name["AgentDesk"].full_name


class AgentDeskServicer(agent_desk_pb2_grpc.AgentDeskServicer):
    """Each stream is a coroutine on the server's event loop: a task reads the agent's messages while the stream
    writes the session's; no thread per stream. Switchboard calls are short and take its lock, so they run on the
    loop itself."""

    def __init__(self, switchboard: Switchboard, authenticator: AgentAuthenticator, ready: Callable[[], bool]) -> None:
        self._switchboard = switchboard
        self._authenticator = authenticator
        self._ready = ready

    async def Connect(  # type: ignore[override]
        self, request_iterator: AsyncIterator[agent_desk_pb2.AgentMessage], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[agent_desk_pb2.DeskMessage]:
        if not self._ready():
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the router is still loading agents and contacts")
        requests = aiter(request_iterator)
        try:
            first = await anext(requests, None)
        except MalformedMessage:
            log.warning("desk_message_malformed")  # the call ends with INVALID_ARGUMENT
            return
        if first is None:
            return
        if first.WhichOneof("kind") != "login" or not first.login.agent_id:
            yield _error("login_required", "the first message on the stream must be a login with an agent_id")
            return
        refusal = self._authenticator.refusal(first.login)
        if refusal is not None:
            log.warning("agent_login_refused", code=refusal.code)
            yield agent_desk_pb2.DeskMessage(error=refusal)
            return
        session = DeskSession(first.login.agent_id)
        reader: asyncio.Task[None] | None = None
        try:
            if self._switchboard.connect(session):
                reader = asyncio.create_task(self._read(requests, session), name=f"desk-{session.session_id}")
            async for message in session.stream():
                yield message
        finally:
            if reader is not None:
                reader.cancel()
            self._switchboard.disconnect(session)

    async def _read(self, requests: AsyncIterator[agent_desk_pb2.AgentMessage], session: DeskSession) -> None:
        try:
            async for message in requests:
                self._handle(session, message)
        except (grpc.RpcError, asyncio.CancelledError):
            pass  # the client went away, or the stream ended first; the stream disconnects the agent
        except MalformedMessage:
            log.warning("desk_message_malformed", session=session.session_id)
            session.close()  # the call ends with INVALID_ARGUMENT; the agent goes offline as on any drop
        except Exception:
            log.exception("desk_stream_failed", session=session.session_id)
        finally:
            self._switchboard.disconnect(session)

    def _handle(self, session: DeskSession, message: agent_desk_pb2.AgentMessage) -> None:
        board, traceparent = self._switchboard, message.traceparent
        match message.WhichOneof("kind"):
            case "presence":
                presence = presence_from_enum(message.presence.presence)
                if presence is None:
                    session.send(_error("invalid_presence", "presence must be AVAILABLE, AWAY or OFFLINE"))
                else:
                    board.set_presence(session, presence, message.presence.reason_code)
            case "accept":
                board.accept(session, message.accept.offer_id, traceparent)
            case "reject":
                board.reject(session, message.reject.offer_id, message.reject.reason, traceparent)
            case "reply":
                board.reply(session, message.reply.contact_id, message.reply.body_text, traceparent)
            case "complete":
                done = message.complete
                board.complete(session, done.contact_id, done.disposition, done.wrap_up_summary, traceparent)
            case "login":
                session.send(_error("already_logged_in", "this stream is already logged in"))
            case _:
                session.send(_error("unknown_message", "empty or unknown agent message"))


def _error(code: str, message: str) -> agent_desk_pb2.DeskMessage:
    return agent_desk_pb2.DeskMessage(error=agent_desk_pb2.DeskError(code=code, message=message))
