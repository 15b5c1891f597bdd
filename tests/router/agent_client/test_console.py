"""The interactive agent client in a real terminal: a tmux pane driven by send-keys, against a real router."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from contactrouting.v1 import routing_pb2
from devstack.stack import REPO_ROOT

from ..adapters.harness import Kafka, RouterUnderTest, agent_profile, contact_event, events_of, unique

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]
RET = routing_pb2.RoutingEventType


@pytest.fixture(scope="module")
def router(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RouterUnderTest]:
    under_test = RouterUnderTest(broker, tmp_path_factory.mktemp("router"))
    under_test.start()
    yield under_test
    under_test.stop()


class Pane:
    """One tmux session on a private server socket, so parallel test runs never share a tmux server."""

    def __init__(self, socket: Path, command: str) -> None:
        self._tmux = ["tmux", "-S", str(socket)]
        self._session = unique("desk")
        subprocess.run(
            [*self._tmux, "new-session", "-d", "-s", self._session, "-x", "220", "-y", "50", command],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            check=True,
        )

    def screen(self) -> str:
        result = subprocess.run(
            [*self._tmux, "capture-pane", "-p", "-J", "-t", self._session, "-S", "-500"], capture_output=True, text=True
        )
        return result.stdout

    def type(self, line: str) -> None:
        subprocess.run([*self._tmux, "send-keys", "-t", self._session, "-l", line], check=True)
        subprocess.run([*self._tmux, "send-keys", "-t", self._session, "Enter"], check=True)

    def wait_for(self, text: str, timeout_s: float = 20.0) -> str:
        deadline = time.monotonic() + timeout_s
        while text not in (screen := self.screen()):
            assert time.monotonic() < deadline, f"{text!r} never appeared on screen:\n{screen}"
            time.sleep(0.1)
        return screen

    def alive(self) -> bool:
        return subprocess.run([*self._tmux, "has-session", "-t", self._session], capture_output=True).returncode == 0

    def kill(self) -> None:
        subprocess.run([*self._tmux, "kill-server"], capture_output=True)


@pytest.fixture
def pane(tmp_path: Path) -> Iterator[Callable[[str], Pane]]:
    panes: list[Pane] = []

    def open_pane(command: str) -> Pane:
        panes.append(Pane(tmp_path / "tmux.sock", command))
        return panes[-1]

    yield open_pane
    for opened in panes:
        opened.kill()


def test_an_agent_works_a_contact_with_keys_in_tmux(
    router: RouterUnderTest, kafka: Kafka, pane: Callable[[str], Pane]
) -> None:
    skill = unique("skill")
    agent_id = unique("agent")
    kafka.publish_agent(agent_profile(agent_id, skill))
    command = shlex.join(
        [sys.executable, "-m", "services.router.agent_client", "--target", router.target, "--agent", agent_id]
    )
    desk = pane(command)
    desk.wait_for(f"logged in as {agent_id} (available)")

    contact = contact_event(skill)
    kafka.publish_contact(contact)
    screen = desk.wait_for("why you:")
    assert "OFFER" in screen and "email  lang=hr" in screen and f"subject: {contact.subject}" in screen
    assert "waiting " in screen

    desk.type("a")
    desk.wait_for(f"assigned: [1] {contact.contact_id}")
    desk.type("m Hvala, riješeno je.")
    desk.wait_for(f"reply sent on {contact.contact_id}")
    desk.type("p away lunch")
    desk.wait_for("presence: away (lunch)")
    desk.type("c solved fixed the invoice")
    desk.wait_for(f"contact {contact.contact_id} closed: solved")

    events = events_of(kafka, contact.contact_id, lambda types: RET.ROUTING_EVENT_TYPE_COMPLETED in types)
    completed = [e for e in events if e.type == RET.ROUTING_EVENT_TYPE_COMPLETED]
    assert [(e.agent_id, e.disposition, e.wrap_up_summary) for e in completed] == [
        (agent_id, "solved", "fixed the invoice")
    ]

    desk.type("q")
    deadline = time.monotonic() + 10
    while desk.alive():
        assert time.monotonic() < deadline, "q must end the client"
        time.sleep(0.1)


def test_reject_key_passes_the_offer_on_and_unknown_keys_get_help(
    router: RouterUnderTest, kafka: Kafka, pane: Callable[[str], Pane]
) -> None:
    skill = unique("skill")
    agent_id = unique("agent")
    kafka.publish_agent(agent_profile(agent_id, skill))
    command = shlex.join(
        [sys.executable, "-m", "services.router.agent_client", "--target", router.target, "--agent", agent_id]
    )
    desk = pane(command)
    desk.wait_for("logged in as")
    desk.type("x")
    desk.wait_for("unknown key 'x'; h for help")

    contact = contact_event(skill)
    kafka.publish_contact(contact)
    desk.wait_for("why you:")
    desk.type("r too busy")
    events = events_of(kafka, contact.contact_id, lambda types: RET.ROUTING_EVENT_TYPE_REJECTED in types)
    rejected = [e for e in events if e.type == RET.ROUTING_EVENT_TYPE_REJECTED]
    assert [(e.agent_id, e.reason) for e in rejected] == [(agent_id, "too busy")]
