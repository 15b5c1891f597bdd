"""The test mail corpus: raw .eml files exactly as a mail server would hand them over."""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).with_name("corpus")


def corpus_mail(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


# The bytes attached to attachments.eml, so tests can state the exact size and sha256 the gateway must report.
INVOICE_PDF = b"%PDF-1.4\n% fake but deterministic invoice bytes\n" + bytes(range(256))
SCREENSHOT_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
