"""The gRPC request handlers (skills' SkillsAdmin, the router's AgentDesk) through real gRPC to running services.

A case is one call with a random or garbage request. OK and statuses other than UNKNOWN/INTERNAL are outcomes;
UNKNOWN/INTERNAL, an error in the service's log, a dead process or a missed deadline are failures.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import strategies as st

from contactrouting.v1 import agent_desk_pb2, skills_pb2
from devstack.stack import REPO_ROOT, Stack
from fuzz.campaign import Crash, Event, Hang, Rejection, Target, Verdict
from fuzz.protobuf_strategies import messages
from fuzz.services import LogWatch, running_services

_CALL_TIMEOUT_S = 10.0
_FAILURE_CODES = (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL)
# grpcio answers a request it cannot decode with INTERNAL and this text, before any service code runs.
_UNDECODABLE = "Exception deserializing request!"
# ...and logs this at error level from grpc._common: expected for those requests, not a service failure.
_UNDECODABLE_LOGGED = '"event": "Exception deserializing message!", "logger": "grpc._common"'
_ADMIN_TOKEN, _READ_TOKEN = "demo-admin-token", "demo-read-token"


def _demo_words() -> list[str]:
    agents = yaml.safe_load((REPO_ROOT / "config" / "demo_agents.yaml").read_text())
    agent_ids = [agent["id"] for agent in agents.get("agents", []) if isinstance(agent, dict) and "id" in agent]
    return [*agent_ids, "general", "billing", "vip", "overflow", "en", "hr", "sk", "de", "email", "whatsapp"]


@dataclass
class _Service:
    """The running service a target calls, set up when the campaign's environment is entered."""

    name: str
    health_name: str
    grpc_port: int = 0
    channel: grpc.Channel | None = None
    stack: Stack | None = None
    log: LogWatch | None = None

    def call_unary(self, method: str, payload: bytes, metadata: tuple[tuple[str, str], ...]) -> bytes:
        assert self.channel is not None
        stub = self.channel.unary_unary(method)  # identity (de)serializers: the payload goes as it is
        return stub(payload, metadata=metadata, timeout=_CALL_TIMEOUT_S)

    def verdict_of(self, label: str, call: Any) -> Verdict:
        """Run a call; translate its status, then make sure the service logged no error and is still up."""
        try:
            call()
            verdict: Verdict = Event(label)
        except grpc.RpcError as error:
            code, details = error.code(), error.details() or ""
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise Hang(f"{label}: no answer within {_CALL_TIMEOUT_S:.0f}s") from None
            if code == grpc.StatusCode.INTERNAL and details == _UNDECODABLE:
                verdict = Rejection("undecodable request (grpcio)")
            elif code in _FAILURE_CODES:
                raise Crash(f"{label}: {code.name} {details[:200]}") from None
            elif code == grpc.StatusCode.UNAVAILABLE:
                self._ensure_alive()
                verdict = Rejection(code.name)
            else:
                verdict = Rejection(code.name)
        assert self.log is not None
        if errors := [line for line in self.log.new_errors() if _UNDECODABLE_LOGGED not in line]:
            raise Crash(f"{label}: the service logged {_describe(errors[0])}")
        return verdict

    def _ensure_alive(self) -> None:
        assert self.stack is not None
        if not self.stack.services[self.name].running:
            raise Crash(f"{self.name} exited: {self.stack.services[self.name].log_tail(10)}")

    def assert_serving(self) -> None:
        self._ensure_alive()
        assert self.channel is not None
        status = health_pb2_grpc.HealthStub(self.channel).Check(
            health_pb2.HealthCheckRequest(service=self.health_name), timeout=_CALL_TIMEOUT_S
        )
        if status.status != health_pb2.HealthCheckResponse.SERVING:
            raise Crash(f"{self.name} health is {status.status} after the campaign")
        assert self.log is not None
        if errors := self.log.new_errors():
            raise Crash(f"{self.name} logged {_describe(errors[0])}")

    @contextmanager
    def environment(self) -> Iterator[None]:
        with running_services("skills", "router") as stack:
            self.stack = stack
            self.grpc_port = stack.ports.skills_grpc if self.name == "skills" else stack.ports.router_grpc
            self.log = LogWatch(stack.services[self.name].log_path)
            self.log.new_errors()  # start-up noise is not the campaign's
            with grpc.insecure_channel(f"127.0.0.1:{self.grpc_port}") as channel:
                self.channel = channel
                yield
            self.channel = None


def _describe(line: str) -> str:
    """A logged error as `event: where: last exception line`, stable across cases (no session ids or times)."""
    try:
        record = json.loads(line)
    except ValueError:
        return line[:200]
    trace = [part.strip() for part in str(record.get("exception", "")).splitlines() if part.strip()]
    where = next((part for part in reversed(trace) if part.startswith("File ")), "")
    # Numbers in the message (ids, values) would make one bug look like many.
    message = re.sub(r"-?\d+", "<n>", trace[-1]) if trace else ""
    return f"{record.get('event')}: {where} {message}".strip()


# --- SkillsAdmin: one unary call per case ----------------------------------------------------------------------

_SKILLS = skills_pb2.DESCRIPTOR.services_by_name["SkillsAdmin"]


def _encode_unary(case: tuple[str, str, bytes]) -> bytes:
    method, token, payload = case
    return json.dumps({"method": method, "token": token, "request": base64.b64encode(payload).decode()}).encode()


def _decode_unary(raw: bytes) -> tuple[str, str, bytes]:
    fields = json.loads(raw)
    return fields["method"], fields["token"], base64.b64decode(fields["request"])


def skills_admin_target() -> Target:
    return _unary_target("grpc_skills_admin", _Service("skills", _SKILLS.full_name), _SKILLS)


def routing_admin_target() -> Target:
    service = _Service("router", _DESK.full_name)
    return _unary_target("grpc_routing_admin", service, agent_desk_pb2.DESCRIPTOR.services_by_name["RoutingAdmin"])


def _unary_target(name: str, service: _Service, descriptor: Any) -> Target:
    """Every unary method of the gRPC service, with random or undecodable requests and good, weak or bad tokens."""
    words = _demo_words()
    requests = {
        method.name: messages(method.input_type, words).map(lambda message: message.SerializeToString())
        for method in descriptor.methods
    }
    tokens = st.sampled_from([_ADMIN_TOKEN, _ADMIN_TOKEN, _READ_TOKEN, "", "wrong", "demo-admin-token extra"])

    @st.composite
    def cases(draw: st.DrawFn) -> tuple[str, str, bytes]:
        method = draw(st.sampled_from(sorted(requests)))
        payload = draw(requests[method] | st.binary(max_size=200))
        return method, draw(tokens), payload

    def run_case(case: tuple[str, str, bytes]) -> Verdict:
        method, token, payload = case
        metadata = (("authorization", f"Bearer {token}"),) if token else ()
        path = f"/{descriptor.full_name}/{method}"
        return service.verdict_of(method, lambda: service.call_unary(path, payload, metadata))

    return Target(
        name,
        cases(),
        run_case,
        encode=_encode_unary,
        decode=_decode_unary,
        hang_after_s=_CALL_TIMEOUT_S,
        environment=service.environment,
        after=service.assert_serving,
    )


# --- AgentDesk: one stream per case, a few agent messages then half-close ---------------------------------------

_DESK = agent_desk_pb2.DESCRIPTOR.services_by_name["AgentDesk"]


def _encode_stream(case: list[bytes]) -> bytes:
    return json.dumps([base64.b64encode(message).decode() for message in case]).encode()


def _decode_stream(raw: bytes) -> list[bytes]:
    return [base64.b64decode(message) for message in json.loads(raw)]


def agent_desk_target() -> Target:
    service = _Service("router", _DESK.full_name)
    words = _demo_words()
    any_message = messages(agent_desk_pb2.AgentMessage.DESCRIPTOR, words).map(lambda m: m.SerializeToString())
    login = st.sampled_from(words[:6] or ["nobody"]).map(
        lambda agent_id: agent_desk_pb2.AgentMessage(login=agent_desk_pb2.Login(agent_id=agent_id)).SerializeToString()
    )
    stream = st.tuples(login | any_message, st.lists(any_message | st.binary(max_size=40), max_size=6))
    cases = stream.map(lambda parts: [parts[0], *parts[1]])

    def run_case(case: list[bytes]) -> Verdict:
        assert service.channel is not None
        connect = service.channel.stream_stream(f"/{_DESK.full_name}/Connect")
        kinds: list[str] = []

        def call() -> None:
            for raw in connect(iter(case), timeout=_CALL_TIMEOUT_S):
                reply = agent_desk_pb2.DeskMessage.FromString(raw)
                kind = reply.WhichOneof("kind") or "empty"
                kinds.append(f"error {reply.error.code}" if kind == "error" else kind)

        verdict = service.verdict_of("Connect", call)
        if isinstance(verdict, Event):
            refusals = [kind for kind in kinds if kind.startswith("error")]
            if "login_accepted" not in kinds:
                return Rejection(refusals[0] if refusals else "stream ended without a login")
            return Event("session with refusals" if refusals else "session")
        return verdict

    return Target(
        "grpc_agent_desk",
        cases,
        run_case,
        encode=_encode_stream,
        decode=_decode_stream,
        hang_after_s=_CALL_TIMEOUT_S,
        environment=service.environment,
        after=service.assert_serving,
    )
