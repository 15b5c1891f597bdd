"""The files operators write: YAML documents and CSV sheets of agents, skills and queues.

A YAML document has up to three top-level keys, applied in this order so references resolve:

    skills: [{name: billing, description: Invoices and refunds}]
    queues: [{name: billing, description: Billing questions}]
    agents:
      - id: ana.horvat
        display_name: Ana Horvat
        skills: {billing: 4, general: 3}      # skill -> proficiency 1..5
        languages: {hr: 5, en: 4}             # BCP-47 tag -> level 1..5
        capacity: {email: 5, whatsapp: 3}     # channel -> concurrent contacts
        queues: [billing, general]
        time_zone: Europe/Zagreb
        working_hours: [{weekday: 1, start: "08:00", end: "16:00"}]

A CSV sheet of agents has one agent per row, with `;`-separated lists and `name:value` pairs
(`skills` = `billing:4;general:3`, `working_hours` = `1 08:00-16:00;2 08:00-16:00`).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from contactrouting.v1 import agent_pb2, contact_pb2, skills_pb2

# libyaml's parser when PyYAML was built with it: about five times faster on a 1,000-agent file.
YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAML_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

CHANNELS: dict[str, contact_pb2.Channel] = {
    "email": contact_pb2.CHANNEL_EMAIL,
    "messenger": contact_pb2.CHANNEL_MESSENGER,
    "instagram": contact_pb2.CHANNEL_INSTAGRAM,
    "whatsapp": contact_pb2.CHANNEL_WHATSAPP,
    "telegram": contact_pb2.CHANNEL_TELEGRAM,
    "x": contact_pb2.CHANNEL_X,
}
CHANNEL_NAMES = {number: name for name, number in CHANNELS.items()}
AGENT_CSV_COLUMNS = (
    "id",
    "display_name",
    "skills",
    "languages",
    "capacity",
    "queues",
    "active",
    "time_zone",
    "working_hours",
)
CATALOG_CSV_COLUMNS = ("name", "description")


class DocumentError(ValueError):
    """A file that cannot be read as a document; the message says where."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class WorkingHoursSpec(_Spec):
    weekday: int
    start: str
    end: str


class AgentSpec(_Spec):
    id: str = Field(alias="agent_id", min_length=1)
    display_name: str
    skills: dict[str, int] = Field(default_factory=dict)
    languages: dict[str, int] = Field(default_factory=dict)
    capacity: dict[str, int] = Field(default_factory=dict)
    queues: list[str] = Field(default_factory=list)
    active: bool = True
    time_zone: str = ""
    working_hours: list[WorkingHoursSpec] = Field(default_factory=list)
    # Shown on export; apply always works from the stored version.
    version: int | None = None

    @field_validator("capacity")
    @classmethod
    def _known_channels(cls, capacity: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(capacity) - set(CHANNELS))
        if unknown:
            raise ValueError(f"unknown channel {unknown[0]!r} (known: {', '.join(CHANNELS)})")
        return capacity

    def to_proto(self) -> agent_pb2.AgentProfile:
        return agent_pb2.AgentProfile(
            agent_id=self.id,
            display_name=self.display_name,
            skills=[agent_pb2.SkillLevel(skill=k, proficiency=v) for k, v in self.skills.items()],
            languages=[agent_pb2.LanguageLevel(language=k, level=v) for k, v in self.languages.items()],
            capacity=[
                agent_pb2.ChannelCapacity(channel=CHANNELS[k], max_concurrent=v) for k, v in self.capacity.items()
            ],
            queues=self.queues,
            active=self.active,
            time_zone=self.time_zone,
            working_hours=[
                agent_pb2.WorkingHours(weekday=h.weekday, start=h.start, end=h.end) for h in self.working_hours
            ],
        )


class CatalogSpec(_Spec):
    name: str
    description: str = ""
    version: int | None = None


class Document(_Spec):
    skills: list[CatalogSpec] = Field(default_factory=list)
    queues: list[CatalogSpec] = Field(default_factory=list)
    agents: list[AgentSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names_are_unique(self) -> Document:
        for kind, names in (
            ("skills", [s.name for s in self.skills]),
            ("queues", [q.name for q in self.queues]),
            ("agents", [a.id for a in self.agents]),
        ):
            seen: set[str] = set()
            for name in names:
                if name in seen:
                    raise ValueError(f"{kind}: {name!r} appears twice")
                seen.add(name)
        return self


# --- reading -----------------------------------------------------------------------------------------------------
def parse_yaml(text: str, bare_list_kind: str = "agents") -> Document:
    """A document; a bare list is read as a list of `bare_list_kind`."""
    try:
        data = yaml.load(text, Loader=YAML_LOADER)
    except yaml.YAMLError as error:
        raise DocumentError(f"not valid YAML: {error}") from None
    if data is None:
        return Document()
    if isinstance(data, list):
        data = {bare_list_kind: data}
    if not isinstance(data, dict):
        raise DocumentError("expected a mapping with skills:, queues: and/or agents:, or a list")
    return _validated(data)


def parse_csv(text: str, kind: str) -> Document:
    # newline="": quoted cells may hold line breaks, which must stay part of the cell.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    expected = AGENT_CSV_COLUMNS if kind == "agents" else CATALOG_CSV_COLUMNS
    missing = [column for column in expected[:2] if column not in (reader.fieldnames or [])]
    if missing:
        raise DocumentError(f"CSV header lacks column(s) {', '.join(missing)}; expected {','.join(expected)}")
    rows: list[dict[str, Any]] = []
    try:
        for row in reader:
            try:
                rows.append(_agent_from_row(row) if kind == "agents" else _catalog_from_row(row))
            except (ValueError, KeyError) as error:
                raise DocumentError(f"CSV line {reader.line_num}: {error}") from None
    except csv.Error as error:
        raise DocumentError(f"CSV line {reader.line_num}: {error}") from None
    return _validated({kind: rows})


def _validated(data: dict[str, Any]) -> Document:
    try:
        return Document.model_validate(data)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
        raise DocumentError(f"{where}: {problem['msg']}{more}") from None


def _pairs(cell: str, column: str) -> dict[str, int]:
    pairs: dict[str, int] = {}
    for item in _items(cell):
        name, sep, value = item.partition(":")
        if not sep or not value.strip().lstrip("-").isdigit():
            raise ValueError(f"{column}: {item!r} is not name:number")
        pairs[name.strip()] = int(value)
    return pairs


def _items(cell: str | None) -> list[str]:
    return [item.strip() for item in (cell or "").split(";") if item.strip()]


def _agent_from_row(row: dict[str, str]) -> dict[str, Any]:
    hours = []
    for item in _items(row.get("working_hours")):
        weekday, _, span = item.partition(" ")
        start, _, end = span.partition("-")
        if not weekday.isdigit() or not end:
            raise ValueError(f"working_hours: {item!r} is not 'WEEKDAY HH:MM-HH:MM'")
        hours.append({"weekday": int(weekday), "start": start.strip(), "end": end.strip()})
    active = (row.get("active") or "true").strip().lower()
    if active not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError(f"active: {active!r} is not true or false")
    return {
        "id": (row.get("id") or "").strip(),
        "display_name": (row.get("display_name") or "").strip(),
        "skills": _pairs(row.get("skills") or "", "skills"),
        "languages": _pairs(row.get("languages") or "", "languages"),
        "capacity": _pairs(row.get("capacity") or "", "capacity"),
        "queues": _items(row.get("queues")),
        "active": active in ("true", "1", "yes"),
        "time_zone": (row.get("time_zone") or "").strip(),
        "working_hours": hours,
    }


def _catalog_from_row(row: dict[str, str]) -> dict[str, Any]:
    return {"name": (row.get("name") or "").strip(), "description": (row.get("description") or "").strip()}


# --- writing -----------------------------------------------------------------------------------------------------
def agent_to_dict(profile: agent_pb2.AgentProfile) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": profile.agent_id,
        "display_name": profile.display_name,
        "skills": {s.skill: s.proficiency for s in profile.skills},
        "languages": {lang.language: lang.level for lang in profile.languages},
        "capacity": {CHANNEL_NAMES.get(c.channel, str(c.channel)): c.max_concurrent for c in profile.capacity},
        "queues": list(profile.queues),
        "active": profile.active,
    }
    if profile.time_zone:
        data["time_zone"] = profile.time_zone
    if profile.working_hours:
        data["working_hours"] = [{"weekday": h.weekday, "start": h.start, "end": h.end} for h in profile.working_hours]
    data["version"] = profile.version
    return data


def catalog_to_dict(entry: skills_pb2.Skill | skills_pb2.Queue) -> dict[str, Any]:
    return {"name": entry.name, "description": entry.description, "version": entry.version}


def agents_to_csv(profiles: list[agent_pb2.AgentProfile]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)  # RFC 4180: CRLF rows, and cells holding a CR or LF are quoted
    writer.writerow(AGENT_CSV_COLUMNS)
    for p in profiles:
        writer.writerow(
            [
                p.agent_id,
                p.display_name,
                ";".join(f"{s.skill}:{s.proficiency}" for s in p.skills),
                ";".join(f"{lang.language}:{lang.level}" for lang in p.languages),
                ";".join(f"{CHANNEL_NAMES.get(c.channel, c.channel)}:{c.max_concurrent}" for c in p.capacity),
                ";".join(p.queues),
                "true" if p.active else "false",
                p.time_zone,
                ";".join(f"{h.weekday} {h.start}-{h.end}" for h in p.working_hours),
            ]
        )
    return out.getvalue()


def catalog_to_csv(entries: list[skills_pb2.Skill] | list[skills_pb2.Queue]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)  # RFC 4180: CRLF rows, and cells holding a CR or LF are quoted
    writer.writerow(CATALOG_CSV_COLUMNS)
    for entry in entries:
        writer.writerow([entry.name, entry.description])
    return out.getvalue()
