"""Assertions that customer PII (bodies, addresses, names, phone numbers) appears nowhere in telemetry."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Leak:
    source: str
    line: int
    needle: str
    excerpt: str


def find_pii(texts: Iterable[tuple[str, str]], forbidden: Iterable[str]) -> list[Leak]:
    """Every occurrence of a forbidden string (case-insensitive) in (source name, text) pairs.

    Each needle is also looked for in its JSON-escaped form, so a body with quotes or non-ASCII letters is found
    in JSON lines too.
    """
    needles = [needle for needle in forbidden if needle]
    variants = {needle: _variants(needle) for needle in needles}
    leaks: list[Leak] = []
    for source, text in texts:
        for number, line in enumerate(text.splitlines(), start=1):
            lowered = line.lower()
            for needle in needles:
                for variant in variants[needle]:
                    at = lowered.find(variant)
                    if at >= 0:
                        excerpt = line[max(0, at - 40) : at + len(variant) + 40]
                        leaks.append(Leak(source, number, needle, excerpt))
                        break
    return leaks


def assert_no_pii(texts: Iterable[str | tuple[str, str]], forbidden: Iterable[str]) -> None:
    """Fail naming each source, line and needle if any forbidden string appears in any text.

    `texts` are plain strings (a metrics scrape) or (source name, text) pairs, e.g. from `telemetry_texts`.
    """
    forbidden = list(forbidden)
    assert any(forbidden), "assert_no_pii needs at least one non-empty forbidden string"
    named = [item if isinstance(item, tuple) else (f"text[{index}]", item) for index, item in enumerate(texts)]
    leaks = find_pii(named, forbidden)
    assert not leaks, "PII found in telemetry:\n" + "\n".join(
        f"  {leak.source}:{leak.line}: {leak.needle!r} in ...{leak.excerpt}..." for leak in leaks
    )


def telemetry_texts(*paths: Path) -> list[tuple[str, str]]:
    """(path, text) of each file, and of every *.jsonl / *.log file under each directory (span and log files)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in {".jsonl", ".log"}))
        elif path.is_file():
            files.append(path)
    return [(str(file), file.read_text(encoding="utf-8", errors="replace")) for file in files]


def _variants(needle: str) -> list[str]:
    lowered = needle.lower()
    escaped = json.dumps(needle)[1:-1].lower()
    return [lowered] if escaped == lowered else [lowered, escaped]
