"""Random protobuf messages built from their descriptors: every field type, unknown enum values, nesting."""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import strategies as st

from fuzz.strategies import text

_F = FieldDescriptor
_INT_RANGES = {
    _F.TYPE_INT32: (-(2**31), 2**31 - 1),
    _F.TYPE_SINT32: (-(2**31), 2**31 - 1),
    _F.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    _F.TYPE_INT64: (-(2**63), 2**63 - 1),
    _F.TYPE_SINT64: (-(2**63), 2**63 - 1),
    _F.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    _F.TYPE_UINT32: (0, 2**32 - 1),
    _F.TYPE_FIXED32: (0, 2**32 - 1),
    _F.TYPE_UINT64: (0, 2**64 - 1),
    _F.TYPE_FIXED64: (0, 2**64 - 1),
}


def messages(descriptor: Any, words: list[str], depth: int = 0) -> st.SearchStrategy[Message]:
    """Messages of this type with any subset of fields set; `words` are strings the service knows (ids, names)."""
    message_class = GetMessageClass(descriptor)
    fields = {field.name: _field_values(field, words, depth) for field in descriptor.fields if depth < 3}

    def build(values: dict[str, Any]) -> Message:
        message = message_class()
        for name, value in values.items():
            field = descriptor.fields_by_name[name]
            if field.message_type is not None and field.message_type.GetOptions().map_entry:
                target = getattr(message, name)
                for key, item in value:
                    if isinstance(item, Message):
                        target[key].CopyFrom(item)
                    else:
                        target[key] = item
            elif field.is_repeated:
                getattr(message, name).extend(value)
            elif isinstance(value, Message):
                getattr(message, name).CopyFrom(value)
            else:
                setattr(message, name, value)
        return message

    return st.fixed_dictionaries({}, optional=fields).map(build)


def _field_values(field: FieldDescriptor, words: list[str], depth: int) -> st.SearchStrategy[Any]:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key_field, value_field = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
        pair = st.tuples(_single(key_field, words, depth + 1), _single(value_field, words, depth + 1))
        return st.lists(pair, max_size=4)
    single = _single(field, words, depth)
    if field.is_repeated:
        return st.lists(single, max_size=5)
    return single


def _single(field: FieldDescriptor, words: list[str], depth: int) -> st.SearchStrategy[Any]:
    kind = field.type
    if kind == _F.TYPE_MESSAGE:
        nested = field.message_type
        assert nested is not None
        return st.deferred(lambda: messages(nested, words, depth + 1))
    if kind == _F.TYPE_STRING:
        # Protobuf strings must be valid UTF-8: no lone surrogates.
        return st.sampled_from(words) | text.filter(lambda value: not _has_surrogate(value))
    if kind == _F.TYPE_BYTES:
        return st.binary(max_size=64)
    if kind == _F.TYPE_BOOL:
        return st.booleans()
    if kind in (_F.TYPE_FLOAT, _F.TYPE_DOUBLE):
        return st.floats(width=32 if kind == _F.TYPE_FLOAT else 64)
    if kind == _F.TYPE_ENUM:
        assert field.enum_type is not None
        known = [value.number for value in field.enum_type.values]
        # Proto3 enums are open: a client may send a number the server does not know.
        return st.sampled_from(known) | st.integers(-(2**31), 2**31 - 1)
    low, high = _INT_RANGES[kind]
    return st.sampled_from([0, 1, -1 if low < 0 else 2, low, high]) | st.integers(low, high)


def _has_surrogate(value: str) -> bool:
    return any(0xD800 <= ord(char) <= 0xDFFF for char in value)
