"""Rendering for the terminal (aligned table) and for other programs (json, yaml, csv: re-appliable documents)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import yaml

from contactrouting.v1 import agent_pb2, skills_pb2
from services.skills.cli.documents import (
    CHANNEL_NAMES,
    YAML_DUMPER,
    agent_to_dict,
    agents_to_csv,
    catalog_to_csv,
    catalog_to_dict,
)

FORMATS = ("table", "json", "yaml", "csv")


def render_agents(agents: Sequence[agent_pb2.AgentProfile], fmt: str) -> str:
    if fmt == "csv":
        return agents_to_csv(list(agents))
    if fmt == "table":
        rows = [
            [
                a.agent_id,
                a.display_name,
                "yes" if a.active else "no",
                ",".join(f"{s.skill}:{s.proficiency}" for s in a.skills),
                ",".join(f"{lang.language}:{lang.level}" for lang in a.languages),
                ",".join(f"{CHANNEL_NAMES.get(c.channel, c.channel)}:{c.max_concurrent}" for c in a.capacity),
                ",".join(a.queues),
                str(a.version),
            ]
            for a in agents
        ]
        return table(["ID", "NAME", "ACTIVE", "SKILLS", "LANGUAGES", "CAPACITY", "QUEUES", "VERSION"], rows)
    return _document({"agents": [agent_to_dict(a) for a in agents]}, fmt)


def render_catalog(kind: str, entries: Sequence[skills_pb2.Skill | skills_pb2.Queue], fmt: str) -> str:
    if fmt == "csv":
        return catalog_to_csv(list(entries))  # type: ignore[arg-type]
    if fmt == "table":
        return table(["NAME", "DESCRIPTION", "VERSION"], [[e.name, e.description, str(e.version)] for e in entries])
    return _document({kind: [catalog_to_dict(e) for e in entries]}, fmt)


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = ["   ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() for line in [headers, *rows]]
    return "\n".join(lines) + "\n"


def _document(data: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return str(yaml.dump(data, Dumper=YAML_DUMPER, sort_keys=False, allow_unicode=True))
