"""Stable pseudonyms for people's ids in logs: agent ids are often names ("ana.horvat"), and logs leave the building."""

from __future__ import annotations

import hashlib


def pseudonym(identifier: str) -> str:
    """The first 12 hex digits of SHA-256: stable across services and restarts, so log lines still correlate."""
    return hashlib.sha256(identifier.encode()).hexdigest()[:12]
