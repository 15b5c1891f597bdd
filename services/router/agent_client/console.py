"""The interactive desk: offers and assignments printed as they arrive, one-letter commands typed on a line.

Line-based on purpose: it works the same in a plain terminal, over ssh, and in a tmux pane driven by send-keys.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from contactrouting.v1 import agent_desk_pb2
from services.router.agent_client.desk_view import assignment_line, message_line, offer_lines

AgentMessage = agent_desk_pb2.AgentMessage

HELP = """keys:  a accept offer | r [reason] reject offer | m <text> reply | c [disposition] [summary] complete
       l list contacts | <n> select contact n | p available|away [reason] presence | h help | q quit"""

PRESENCE_WORDS = {
    "available": agent_desk_pb2.PRESENCE_AVAILABLE,
    "away": agent_desk_pb2.PRESENCE_AWAY,
}


@dataclass
class _Held:
    assignment: agent_desk_pb2.Assignment
    traceparent: str


class Console:
    def __init__(self, send: Callable[[AgentMessage], None], out: TextIO) -> None:
        self._send = send
        self._out = out
        self._lock = threading.Lock()
        self._offer: agent_desk_pb2.DeskMessage | None = None
        self._held: dict[str, _Held] = {}
        self._selected: str | None = None

    # --- from the router ----------------------------------------------------------------------------------------
    def handle(self, message: agent_desk_pb2.DeskMessage) -> None:
        with self._lock:
            kind = message.WhichOneof("kind")
            if kind == "offer":
                self._offer = message
                self._print(*offer_lines(message.offer), "  a = accept, r = reject")
            elif kind == "assignment":
                if self._offer is not None and self._offer.offer.offer_id == message.assignment.offer_id:
                    self._offer = None
                self._held[message.assignment.contact_id] = _Held(message.assignment, message.traceparent)
                self._selected = message.assignment.contact_id
                self._print(f"assigned: {assignment_line(self._number(self._selected), message.assignment)} (selected)")
            else:
                if (
                    kind == "offer_rescinded"
                    and self._offer
                    and self._offer.offer.offer_id == message.offer_rescinded.offer_id
                ):
                    self._offer = None
                if kind == "contact_closed":
                    self._forget(message.contact_closed.contact_id)
                self._print(message_line(message))

    def status(self, line: str) -> None:
        with self._lock:
            self._print(f"* {line}")

    # --- from the keyboard ------------------------------------------------------------------------------------
    def command(self, line: str) -> bool:
        """Run one typed line; False means quit."""
        key, _, rest = line.strip().partition(" ")
        rest = rest.strip()
        with self._lock:
            if key == "q":
                return False
            if key in ("h", "?"):
                self._print(HELP)
            elif key == "a":
                self._answer_offer(accept=True, reason="")
            elif key == "r":
                self._answer_offer(accept=False, reason=rest or "declined")
            elif key == "m":
                self._reply(rest)
            elif key == "c":
                disposition, _, summary = rest.partition(" ")
                self._complete(disposition or "resolved", summary.strip())
            elif key == "l":
                self._list()
            elif key.isdigit():
                self._select(int(key))
            elif key == "p":
                self._presence(rest)
            elif key:
                self._print(f"unknown key {key!r}; h for help")
        return True

    def _answer_offer(self, accept: bool, reason: str) -> None:
        if self._offer is None:
            self._print("no offer pending")
            return
        offer_id, traceparent = self._offer.offer.offer_id, self._offer.traceparent
        if accept:
            self._send(AgentMessage(accept=agent_desk_pb2.AcceptOffer(offer_id=offer_id), traceparent=traceparent))
        else:
            rejection = agent_desk_pb2.RejectOffer(offer_id=offer_id, reason=reason)
            self._send(AgentMessage(reject=rejection, traceparent=traceparent))
            self._offer = None

    def _reply(self, text: str) -> None:
        held = self._selected_contact()
        if held is None:
            return
        if not text:
            self._print("usage: m <text of the reply>")
            return
        reply = agent_desk_pb2.SendReply(contact_id=held.assignment.contact_id, body_text=text)
        self._send(AgentMessage(reply=reply, traceparent=held.traceparent))
        self._print(f"reply sent on {held.assignment.contact_id}")

    def _complete(self, disposition: str, summary: str) -> None:
        held = self._selected_contact()
        if held is None:
            return
        done = agent_desk_pb2.CompleteContact(
            contact_id=held.assignment.contact_id, disposition=disposition, wrap_up_summary=summary
        )
        self._send(AgentMessage(complete=done, traceparent=held.traceparent))

    def _presence(self, words: str) -> None:
        name, _, reason = words.partition(" ")
        presence = PRESENCE_WORDS.get(name)
        if presence is None:
            self._print("usage: p available|away [reason]")
            return
        self._send(AgentMessage(presence=agent_desk_pb2.SetPresence(presence=presence, reason_code=reason.strip())))

    def _list(self) -> None:
        if not self._held:
            self._print("no contacts assigned")
        for number, held in enumerate(self._held.values(), start=1):
            marker = " (selected)" if held.assignment.contact_id == self._selected else ""
            self._print(assignment_line(number, held.assignment) + marker)

    def _select(self, number: int) -> None:
        contacts = list(self._held)
        if not 1 <= number <= len(contacts):
            self._print(f"no contact {number}; l lists them")
            return
        self._selected = contacts[number - 1]
        self._print(f"selected {assignment_line(number, self._held[self._selected].assignment)}")

    def _selected_contact(self) -> _Held | None:
        held = self._held.get(self._selected or "")
        if held is None:
            self._print("no contact selected; l lists them")
        return held

    def _forget(self, contact_id: str) -> None:
        self._held.pop(contact_id, None)
        if self._selected == contact_id:
            self._selected = next(iter(self._held), None)

    def _number(self, contact_id: str) -> int:
        return list(self._held).index(contact_id) + 1

    def _print(self, *lines: str) -> None:
        for line in lines:
            self._out.write(line + "\n")
        self._out.flush()
