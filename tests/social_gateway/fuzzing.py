"""Hypothesis strategies for normalizer fuzzing: arbitrary JSON, and valid payloads with one part replaced."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

from services.social_gateway.domain.contact_events import to_contact_event
from services.social_gateway.domain.messages import MalformedPayload, Normalized
from services.social_gateway.domain.queue_rules import QueueRules

# No deadline: the first example loads the language model, which takes a second.
fuzz_settings = settings(max_examples=300, deadline=None)

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    # Lone surrogates are valid JSON escapes but not valid UTF-8: they must not reach protobuf.
    | st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=2),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=30,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            paths.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths.extend(_paths(item, (*prefix, index)))
    return paths


@st.composite
def mutated(draw: st.DrawFn, valid: dict[str, Any]) -> bytes:
    """A valid payload with one node (possibly the root) replaced by arbitrary JSON, or deleted."""
    payload = copy.deepcopy(valid)
    path = draw(st.sampled_from(_paths(payload)))
    if not path:
        return json.dumps(draw(json_values)).encode()
    parent = payload
    for part in path[:-1]:
        parent = parent[part]
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(json_values)
    return json.dumps(payload).encode()


raw_bodies: st.SearchStrategy[bytes] = st.binary(max_size=200) | json_values.map(
    lambda value: json.dumps(value).encode()
)


def assert_events_or_clear_rejection(normalize: Callable[[bytes], Normalized], raw: bytes) -> None:
    """The fuzz property: either a Normalized result, or MalformedPayload with a reason; nothing else escapes."""
    try:
        result = normalize(raw)
    except MalformedPayload as rejection:
        assert rejection.reason
        return
    assert isinstance(result, Normalized)
    for message in result.messages:
        assert message.message_id and message.sender_id and message.thread_id and message.source_id
        # Whatever got through must also become a ContactEvent that serializes.
        assert to_contact_event(message, 0, QueueRules("general")).SerializeToString()
