"""Agents, the skills catalog and queues as the skills service owns them: plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Generic, TypeVar

T = TypeVar("T")


class Channel(Enum):
    """The channels an agent can hold capacity on; values match the wire names used in files and on the CLI."""

    EMAIL = "email"
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    X = "x"


@dataclass(frozen=True)
class SkillLevel:
    skill: str
    proficiency: int


@dataclass(frozen=True)
class LanguageLevel:
    language: str
    level: int


@dataclass(frozen=True)
class ChannelCapacity:
    channel: Channel
    max_concurrent: int


@dataclass(frozen=True)
class WorkingHours:
    weekday: int
    start: str
    end: str


@dataclass(frozen=True)
class Agent:
    agent_id: str
    display_name: str
    skills: tuple[SkillLevel, ...] = ()
    languages: tuple[LanguageLevel, ...] = ()
    capacity: tuple[ChannelCapacity, ...] = ()
    queues: tuple[str, ...] = ()
    active: bool = True
    time_zone: str = ""
    working_hours: tuple[WorkingHours, ...] = ()
    # 0 for a record not stored yet; every stored change increments it.
    version: int = 0


@dataclass(frozen=True)
class Skill:
    name: str
    description: str = ""
    version: int = 0


@dataclass(frozen=True)
class Queue:
    name: str
    description: str = ""
    version: int = 0


@dataclass(frozen=True)
class AgentFilter:
    """Every condition given must hold; empty values mean "any"."""

    skill: str = ""
    min_proficiency: int = 0
    language: str = ""
    queue: str = ""
    active_only: bool = False


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T] = field(default_factory=list)
    # The key of the last item returned, when more may follow.
    next_after: str | None = None
