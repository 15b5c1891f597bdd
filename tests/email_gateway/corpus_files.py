"""The test mail corpus: raw .eml files exactly as a mail server would hand them over."""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).with_name("corpus")


def corpus_mail(name: str) -> bytes:
    return (CORPUS / name).read_bytes()
