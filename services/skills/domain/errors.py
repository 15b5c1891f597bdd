"""What can go wrong with a request, independent of how it arrived (gRPC maps these to status codes)."""

from __future__ import annotations


class SkillsError(Exception):
    """Base of every domain error."""


class InvalidField(SkillsError):
    """A request field breaks a rule; `field` is its dotted path, e.g. `agent.skills[1].proficiency`."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(SkillsError):
    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} not found")
        self.kind = kind
        self.key = key


class AlreadyExists(SkillsError):
    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} already exists")


class VersionConflict(SkillsError):
    """The caller's version is not the stored one: someone else changed the record first."""

    def __init__(self, kind: str, key: str, expected: int, actual: int) -> None:
        super().__init__(f"{kind} {key!r} is at version {actual}, not {expected}: reload and retry")
        self.expected = expected
        self.actual = actual


class InUse(SkillsError):
    """A skill or queue that agents still reference cannot be deleted."""

    def __init__(self, kind: str, key: str, agents: int) -> None:
        super().__init__(f"{kind} {key!r} is still used by {agents} agent(s)")
        self.agents = agents
