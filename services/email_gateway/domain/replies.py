"""Separating what the customer just wrote from quoted history and signatures, in the languages we serve.

The router sees the new part; the journey keeps everything, so nothing here throws text away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A line that opens quoted history. Each pattern is matched against one line, or two joined lines, because
# mail clients wrap long attribution lines.
_ATTRIBUTION_PATTERNS = (
    r"^On\b.{0,200}\bwrote:$",  # en
    r"^Am\b.{0,200}\bschrieb.{0,80}:$",  # de
    r"^Le\b.{0,200}\ba écrit ?:$",  # fr
    r"^El\b.{0,200}\bescribió:$",  # es
    r"^Il\b.{0,200}\bha scritto:$",  # it
    r"^(Dne|V)\b.{0,200}\bnapsal(a|\(a\))?:$",  # cs
    r"^.{0,200}\bnapísal(a|\(a\))?:$",  # sk
    r"^(Dana|Dňa|Dne)\b.{0,200}\b(je )?napisa(o|la|o/la|o\(la\)|l|la|l\(a\))( je)?:$",  # hr, sr, bs, sl
    r"^.{0,200}\b(je )?napisao( je)?:$",  # hr, sr, bs without a date
    r"^.{0,200}\bnapisal(a|\(a\))?:$",  # sl
    r"^W dniu\b.{0,200}\bnapisał(a|\(a\))?:$",  # pl
    r"^Op\b.{0,200}\bschreef.{0,80}:$",  # nl
    r"^-{2,}\s*(Original Message|Izvorna poruka|Izvorni e-mail|Originalna poruka|Pôvodná správa|Původní zpráva"
    r"|Ursprüngliche Nachricht|Message d'origine|Mensaje original|Messaggio originale|Wiadomość oryginalna"
    r"|Forwarded message|Prosleđena poruka|Proslijeđena poruka)\s*-{2,}$",
    r"^_{10,}$",  # Outlook's rule above its header block
)
_ATTRIBUTION = re.compile("|".join(f"(?:{p})" for p in _ATTRIBUTION_PATTERNS), re.IGNORECASE)

# Outlook-style header block of the quoted message: "From: …" followed by "Sent:/Date:" in some language.
_HEADER_FROM = re.compile(r"^\*?(From|Od|Von|De|Da|Šalje|Pošiljatelj|Feladó):\*?\s", re.IGNORECASE)
_HEADER_DATE = re.compile(
    r"^\*?(Sent|Date|Poslano|Poslato|Datum|Odoslané|Odesláno|Gesendet|Envoyé|Enviado|Inviato|Wysłano):\*?\s",
    re.IGNORECASE,
)

# Signature openers: the RFC 3676 delimiter and the phone-client footers customers forget to delete.
_SIGNATURE = re.compile(
    r"^(-- ?|--|"
    r"Sent from my .{1,40}|Sent from (Outlook|Mail) for .{1,40}|Get Outlook for .{1,30}|"
    r"Poslano (s|sa) mog.{1,40}|Poslato sa mog.{1,40}|Šalje se (s|sa) .{1,40}|"
    r"Odoslané z .{1,40}|Odesláno z .{1,40}|Von meinem .{1,40} gesendet|Envoyé de mon .{1,40}|"
    r"Enviado desde mi .{1,40}|Inviato da .{1,40}|Wysłane z .{1,40}|Poslano iz .{1,40})$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SplitReply:
    new_text: str
    # Quoted history and signature, in their original order.
    quoted_text: str


def split_reply(text: str) -> SplitReply:
    lines = text.replace("\r\n", "\n").split("\n")
    cut = _first_quote_line(lines)
    new_lines, rest = lines[:cut], lines[cut:]
    signature_at = _signature_line(new_lines)
    if signature_at is not None:
        rest = new_lines[signature_at:] + rest
        new_lines = new_lines[:signature_at]
    return SplitReply("\n".join(new_lines).strip(), "\n".join(rest).strip())


def _first_quote_line(lines: list[str]) -> int:
    quoted_tail = _quoted_tail_start(lines)
    for index, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        if index == quoted_tail or _ATTRIBUTION.match(line):
            return index
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if following and _ATTRIBUTION.match(f"{line} {following}"):
            return index
        if _HEADER_FROM.match(line) and any(
            _HEADER_DATE.match(next_line.strip()) for next_line in lines[index + 1 : index + 4]
        ):
            return index
    return len(lines)


def _quoted_tail_start(lines: list[str]) -> int | None:
    """Where the final '>' block starts, if only blanks or a signature follow it; quotes answered inline are
    new text. One pass from the end, so long quoted histories cost linear time."""
    end = _signature_line(lines)
    position = len(lines) if end is None else end
    while position > 0 and (not lines[position - 1].strip() or lines[position - 1].lstrip().startswith(">")):
        position -= 1
    stop = len(lines) if end is None else end
    return next((index for index in range(position, stop) if lines[index].lstrip().startswith(">")), None)


def _signature_line(lines: list[str]) -> int | None:
    for index, raw in enumerate(lines):
        if _SIGNATURE.match(raw.rstrip()) and (raw.startswith("--") or len(lines) - index <= 8):
            return index
    return None
