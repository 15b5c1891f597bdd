"""Never crash on input: arbitrary bytes and damaged corpus mails either parse or are refused with a reason."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.email_gateway.domain.parsing import UnparseableMail, parse_mail
from services.email_gateway.domain.replies import split_reply

from .corpus_files import CORPUS


def _parse_or_refuse(raw: bytes) -> None:
    try:
        mail = parse_mail(raw)
    except UnparseableMail as refusal:
        assert str(refusal)
        return
    assert mail.from_address and "@" in mail.from_address
    assert isinstance(mail.text, str) and isinstance(mail.subject, str)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_parse_or_are_refused(raw: bytes) -> None:
    _parse_or_refuse(raw)


@pytest.mark.parametrize("name", sorted(path.name for path in CORPUS.glob("*.eml")))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_damaged_corpus_mails_parse_or_are_refused(name: str, data: st.DataObject) -> None:
    raw = bytearray((CORPUS / name).read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(raw) - 1))
        raw[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    _parse_or_refuse(bytes(raw[:cut]))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_reply_separation_never_loses_a_line(text: str) -> None:
    split = split_reply(text)
    kept = (split.new_text + "\n" + split.quoted_text).split("\n")
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.strip():
            assert any(line.strip() in candidate for candidate in kept)
