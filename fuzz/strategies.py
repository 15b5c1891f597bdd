"""Input shapes shared by the targets: arbitrary JSON, mutated JSON documents, and byte-level mutations of seeds."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

# Strings that break naive code: separators, control and format characters, surrogates, huge and empty values.
_NASTY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\r\n",
        "\u202e",
        "\ufeff",
        "\U0001f600",
        "a" * 5000,
        "../../etc/passwd",
        "%s%n",
        "${jndi:x}",
        "<script>",
        "NaN",
        "-1",
        "1e309",
        "null",
    ]
)
text = st.text(max_size=40) | _NASTY_TEXT | st.text(st.characters(codec="utf-8"), max_size=10)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
    # Lone surrogates are valid JSON escapes but not valid UTF-8.
    | st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=2)
)

json_values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(text, children, max_size=5),
    max_leaves=40,
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
def mutated_json(draw: st.DrawFn, documents: list[Any]) -> Any:
    """A known-good document with one to three nodes replaced by arbitrary JSON, deleted, or duplicated."""
    document = copy.deepcopy(draw(st.sampled_from(documents)))
    duplicated = False  # once per document: nested duplications would grow it to megabytes
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(document)))
        if not path:
            document = draw(json_values)
            continue
        parent = document
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "duplicate"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "duplicate" and isinstance(parent, list) and not duplicated:
            parent.extend([copy.deepcopy(parent[path[-1]])] * draw(st.integers(1, 50)))
            duplicated = True
        else:
            parent[path[-1]] = draw(json_values)
    return document


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, allow_nan=False).encode("utf-8", "surrogatepass")


@st.composite
def mutated_bytes(draw: st.DrawFn, seeds: list[bytes], tokens: list[bytes]) -> bytes:
    """A seed with a few byte-level edits: flips, inserted tokens or noise, deleted and repeated ranges, truncation."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        size = len(data)
        at = draw(st.integers(0, size))
        action = draw(st.sampled_from(["flip", "token", "noise", "delete", "repeat", "truncate"]))
        if action == "flip" and at < size:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "token":
            data[at:at] = draw(st.sampled_from(tokens))
        elif action == "noise":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 256))]
        elif action == "repeat":
            data[at:at] = bytes(data[at : at + draw(st.integers(1, 128))]) * draw(st.integers(2, 40))
        elif action == "truncate":
            del data[at:]
    return bytes(data)
