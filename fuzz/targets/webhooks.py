"""Each webhook normalizer (Messenger, Instagram, WhatsApp, Telegram, X), through to the ContactEvent it yields."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable

from hypothesis import strategies as st

from contactrouting.language import detect_language
from fuzz.campaign import Event, Rejection, Target, Verdict
from fuzz.strategies import json_bytes, json_values, mutated_bytes, mutated_json
from services.social_gateway.domain import meta, telegram, x
from services.social_gateway.domain.contact_events import to_contact_event
from services.social_gateway.domain.messages import MalformedPayload, Normalized
from services.social_gateway.domain.queue_rules import QueueRules

_RULES = QueueRules("general")
_TOKENS = [b"{", b"}", b"[", b"]", b'"', b",", b":", b"null", b"1e999", b"-0", b"\\u0000", b"\\ud800", b"\xff"]

NORMALIZERS: dict[str, Callable[[bytes], Normalized]] = {
    "messenger": meta.normalize,
    "instagram": meta.normalize,
    "whatsapp": meta.normalize,
    "telegram": lambda raw: telegram.normalize(raw, "demo-bot"),
    "x": x.normalize,
}


def _case_runner(normalize: Callable[[bytes], Normalized]) -> Callable[[bytes], Verdict]:
    def run_case(raw: bytes) -> Verdict:
        try:
            normalized = normalize(raw)
        except MalformedPayload as rejection:
            if not rejection.reason:
                raise AssertionError("a rejection without a reason") from None
            return Rejection(rejection.reason.split(" ")[0])
        # What the pipeline does next with each message: it must become a ContactEvent that serializes.
        for message in normalized.messages:
            if not (message.message_id and message.sender_id and message.thread_id and message.source_id):
                raise AssertionError(f"an inbound message without an id: {message!r}")
            to_contact_event(message, 0, _RULES).SerializeToString()
        return Event("messages" if normalized.messages else "skipped")

    return run_case


def _factory(platform: str) -> Callable[[], Target]:
    def target() -> Target:
        made = Target(f"webhook_{platform}", st.nothing(), _case_runner(NORMALIZERS[platform]), hang_after_s=5.0)
        made.warm_up = lambda: _warm_up(made)
        seeds = made.corpus()
        documents = [json.loads(seed) for seed in seeds if _is_json(seed)]
        shapes: list[st.SearchStrategy[bytes]] = [
            json_values.map(json_bytes),
            st.binary(max_size=300),
        ]
        if documents:
            mutated = mutated_json(documents).map(json_bytes)
            shapes += [mutated, mutated, mutated, mutated_bytes(seeds, _TOKENS)]
        made.strategy = st.one_of(shapes)
        return made

    return target


# Texts that make language detection load each of its lazily loaded models (py3langid's open set, lingua's).
_WARM_UP_TEXTS = (
    "the first detection loads the models",
    "Dobar dan, imam problem s računom za ovaj mjesec",
    "Dobrý deň, mám problém s faktúrou za tento mesiac",
    "Dober dan, imam težavo z računom za ta mesec",
    "Dobrý den, mám problém s fakturou za tento měsíc",
    "\u0417\u0434\u0440\u0430\u0432\u043e \u0440\u0430\u0447\u0443\u043d",  # Cyrillic: py3langid's open set
    "こんにちは、請求書に問題があります",
)


def _warm_up(target: Target) -> None:
    """Models load lazily, in seconds under load: a case must not be timed while they do."""
    for text in _WARM_UP_TEXTS:
        detect_language(text, "")
    for seed in target.corpus():
        with contextlib.suppress(Exception):
            target.run_case(seed)


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True


FACTORIES = {platform: _factory(platform) for platform in NORMALIZERS}
