"""A scripted agent for demos and benchmarks: accepts every offer at once, replies and completes after a think
time. Each answer echoes the offer's traceparent, so the agent's work joins the contact's trace."""

from __future__ import annotations

import threading
from collections.abc import Callable

from contactrouting.v1 import agent_desk_pb2
from services.router.agent_client.desk_view import channel_label, message_line

AgentMessage = agent_desk_pb2.AgentMessage


class AutoAgent:
    def __init__(
        self,
        send: Callable[[AgentMessage], None],
        think_time_s: float,
        reply_text: str,
        say: Callable[[str], None],
    ) -> None:
        self._send = send
        self._think_time_s = think_time_s
        self._reply_text = reply_text
        self._say = say
        self._lock = threading.Lock()
        # Contacts with a completion scheduled: a hand-back after a reconnect must not schedule a second one.
        self._working: set[str] = set()

    def handle(self, message: agent_desk_pb2.DeskMessage) -> None:
        kind = message.WhichOneof("kind")
        if kind == "offer":
            offer = message.offer
            self._say(
                f"offer {offer.offer_id} {channel_label(offer.contact.channel)} lang={offer.contact.language} "
                f"queue={offer.queue}: accepting ({offer.decision.summary})"
            )
            self._send(
                AgentMessage(
                    accept=agent_desk_pb2.AcceptOffer(offer_id=offer.offer_id), traceparent=message.traceparent
                )
            )
        elif kind == "assignment":
            contact_id = message.assignment.contact_id
            with self._lock:
                if contact_id in self._working:
                    return
                self._working.add(contact_id)
            self._say(f"working on {contact_id} for {self._think_time_s:g}s")
            timer = threading.Timer(self._think_time_s, self._finish, args=(contact_id, message.traceparent))
            timer.daemon = True
            timer.start()
        else:
            self._say(message_line(message))

    def _finish(self, contact_id: str, traceparent: str) -> None:
        if self._reply_text:
            reply = agent_desk_pb2.SendReply(contact_id=contact_id, body_text=self._reply_text)
            self._send(AgentMessage(reply=reply, traceparent=traceparent))
        done = agent_desk_pb2.CompleteContact(
            contact_id=contact_id, disposition="resolved", wrap_up_summary="auto agent"
        )
        self._send(AgentMessage(complete=done, traceparent=traceparent))
        with self._lock:
            self._working.discard(contact_id)
        self._say(f"completed {contact_id}")
