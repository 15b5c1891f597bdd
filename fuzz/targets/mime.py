"""The email gateway's MIME parser, and the pure steps that follow it on intake (threading, dedupe, reply split)."""

from __future__ import annotations

from hypothesis import strategies as st

from fuzz.campaign import Event, Rejection, Target, Verdict
from fuzz.strategies import mutated_bytes
from services.email_gateway.domain.acknowledgement import is_automatic
from services.email_gateway.domain.parsing import UnparseableMail, parse_mail
from services.email_gateway.domain.replies import split_reply
from services.email_gateway.domain.threads import dedupe_key, reference_tag_in, referenced_ids

_CHARSETS = ["utf-8", "iso-8859-2", "windows-1250", "shift_jis", "koi8-r", "utf-7", "x-unknown", "", "utf-16"]
_ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "binary", "x-uuencode", "bogus"]
_TYPES = ["text/plain", "text/html", "multipart/mixed", "multipart/alternative", "message/rfc822", "application/pdf"]
_TOKENS = [
    b"\r\n",
    b"\n\n",
    b"--",
    b"boundary=",
    b'boundary=""',
    b"Content-Type: multipart/mixed; boundary=x\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"=?utf-8?b?",
    b"=?iso-8859-2?q?=C8=E6?=",
    b"?=",
    b"=\r\n",
    b"=XX",
    b"<",
    b">",
    b"\x00",
    b"\xff\xfe",
    b":",
    b"From: ",
    b"Message-ID: <a@b>\r\n",
    b"References: <a@b> <c@d>\r\n",
    b";charset=",
    b"\t",
    b'"',
    b"\\",
    b"(comment)",
]

_header_value = st.text(max_size=60) | st.binary(max_size=60).map(lambda raw: raw.decode("latin-1"))


@st.composite
def _encoded_word(draw: st.DrawFn) -> str:
    charset = draw(st.sampled_from(_CHARSETS))
    kind = draw(st.sampled_from("bBqQx"))
    payload = draw(st.text(alphabet="ABCDEFabcdef0123456789=_?+/ ", max_size=30))
    return f"=?{charset}?{kind}?{payload}?="


@st.composite
def _part(draw: st.DrawFn, depth: int) -> bytes:
    content_type = draw(st.sampled_from(_TYPES))
    lines = [f"Content-Type: {content_type}"]
    if content_type.startswith("multipart/") and depth < 3:
        boundary = draw(st.sampled_from(["b1", "==x==", "", "a b", "-" * 80]))
        lines[0] += f'; boundary="{boundary}"'
        children = draw(st.lists(_part(depth + 1), max_size=4))
        body = b"".join(f"--{boundary}\r\n".encode() + child + b"\r\n" for child in children)
        if draw(st.booleans()):
            body += f"--{boundary}--\r\n".encode()
    else:
        lines[0] += f"; charset={draw(st.sampled_from(_CHARSETS))}"
        if draw(st.booleans()):
            lines[0] += f'; name="{draw(_header_value)}"'
        lines.append(f"Content-Transfer-Encoding: {draw(st.sampled_from(_ENCODINGS))}")
        if draw(st.booleans()):
            lines.append(f"Content-Disposition: attachment; filename={draw(_header_value | _encoded_word())}")
        body = draw(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
    header = "\r\n".join(lines).encode("utf-8", "surrogatepass") + b"\r\n\r\n"
    return header + body


@st.composite
def _message(draw: st.DrawFn) -> bytes:
    headers = [
        (
            "From",
            draw(st.sampled_from(["a@example.net", "Ana <ana@example.net>", "", "<>", "@", "x@"]) | _header_value),
        ),
        ("To", "support@example.com"),
        ("Subject", draw(_header_value | _encoded_word() | st.just("Re: [#AB12CD34] help"))),
        ("Message-ID", draw(st.sampled_from(["<m1@x>", "", "<>", "<<>>", "m@x"]) | _header_value)),
        ("In-Reply-To", draw(_header_value)),
        ("References", draw(_header_value)),
        ("Auto-Submitted", draw(st.sampled_from(["no", "auto-replied", ""]) | _header_value)),
        ("MIME-Version", "1.0"),
    ]
    kept = draw(st.lists(st.sampled_from(headers), max_size=len(headers), unique=True))
    head = "".join(f"{name}: {value}\r\n" for name, value in kept).encode("utf-8", "surrogatepass")
    return head + draw(_part(0))


def _strategy(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    shapes = [_message(), st.binary(max_size=500)]
    if seeds:
        shapes.append(mutated_bytes(seeds, _TOKENS))
        shapes.append(mutated_bytes(seeds, _TOKENS))  # twice as likely: the seeds reach deepest
    return st.one_of(shapes)


def run_case(raw: bytes) -> Verdict:
    try:
        mail = parse_mail(raw)
    except UnparseableMail as rejection:
        return Rejection(str(rejection).split(":")[0])
    # What intake does next with a parsed mail, before any I/O: all of it must hold for any parsed mail too.
    dedupe_key(mail)
    referenced_ids(mail)
    reference_tag_in(mail.subject)
    split_reply(mail.text)
    is_automatic(mail, None, ())
    return Event("contact")


def target() -> Target:
    made = Target("mime", st.nothing(), run_case, hang_after_s=5.0)
    made.strategy = _strategy(made.corpus())
    return made
