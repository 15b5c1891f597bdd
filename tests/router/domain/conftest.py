"""Fixtures for the router domain's unit tests: engines over a small explicit policy."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from services.router.domain import RoutingEngine

from .builders import make_policy


@pytest.fixture
def engine() -> RoutingEngine:
    return RoutingEngine(make_policy())


@pytest.fixture
def engine_for() -> Callable[..., RoutingEngine]:
    return lambda **overrides: RoutingEngine(make_policy(**overrides))
