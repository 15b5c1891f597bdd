"""The agent client is tested against a real router: the same broker and router fixtures as the adapters."""

from __future__ import annotations

from ..adapters.conftest import broker, kafka

__all__ = ["broker", "kafka"]
