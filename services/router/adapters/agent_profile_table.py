"""agents.profiles read as a table: from the beginning at start (the last record per agent wins, a tombstone
deletes), then followed live."""

from __future__ import annotations

import threading
import time

import structlog
from kafka import TopicPartition

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ConsumedRecord, ProtoConsumer
from contactrouting.topics import AGENTS_PROFILES
from contactrouting.v1 import agent_pb2
from services.router.adapters.contact_mapping import agent_spec
from services.router.adapters.switchboard import Switchboard

log = structlog.get_logger()


class AgentProfileTable:
    def __init__(self, settings: ServiceSettings, switchboard: Switchboard) -> None:
        self._consumer = ProtoConsumer(
            settings, {AGENTS_PROFILES: agent_pb2.AgentProfile}, client_id="router-profiles", subscribe=False
        )
        self._switchboard = switchboard
        self.agents_loaded = 0

    def catch_up(self, halt: threading.Event, timeout_s: float) -> bool:
        """Apply every profile up to the current end of the topic; False if halted or out of time first."""
        deadline = time.monotonic() + timeout_s
        end_offsets = self._consumer.assign_from_beginning()
        while not end_offsets:
            log.warning("waiting_for_topic", topic=AGENTS_PROFILES)
            if halt.wait(1.0) or time.monotonic() > deadline:
                return False
            end_offsets = self._consumer.assign_from_beginning()
        while not self._caught_up(end_offsets):
            if halt.is_set() or time.monotonic() > deadline:
                return False
            self._apply(self._consumer.poll(timeout_ms=200))
        log.info("agent_profiles_loaded", agents=self.agents_loaded)
        return True

    def follow(self, halt: threading.Event) -> None:
        try:
            while not halt.is_set():
                self._apply(self._consumer.poll(timeout_ms=200))
        finally:
            self._consumer.close()

    def _caught_up(self, end_offsets: dict[TopicPartition, int]) -> bool:
        return all(self._consumer.position(partition) >= end for partition, end in end_offsets.items())

    def _apply(self, records: list[ConsumedRecord]) -> None:
        for record in records:
            if record.decode_error is not None or record.key is None:
                log.warning("agent_profile_skipped", offset=record.offset, error=record.decode_error or "no key")
            elif record.raw is None:
                self._switchboard.remove_agent(record.key)
            elif isinstance(record.message, agent_pb2.AgentProfile):
                self._switchboard.upsert_agent(agent_spec(record.message))
                self.agents_loaded += 1
