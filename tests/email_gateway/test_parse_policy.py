from email import policy
from email.parser import BytesParser

from services.email_gateway.domain.parse_policy import message_policy

MAIL = (
    b"From: =?utf-8?q?Ivana_Kupac?= <ivana@example.net>\r\n"
    b"To: support@example.com\r\n"
    b"Subject: =?utf-8?q?Ra=C4=8Dun?= za studeni\r\n"
    b"Message-ID: <abc@example.net>\r\n"
    b'Content-Type: multipart/alternative; boundary="b1"\r\n'
    b"\r\n"
    b"--b1\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nDobar dan\r\n"
    b"--b1\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>Dobar dan</p>\r\n"
    b"--b1--\r\n"
)


def test_headers_read_the_same_as_with_the_default_policy() -> None:
    ours = BytesParser(policy=message_policy()).parsebytes(MAIL)
    stdlib = BytesParser(policy=policy.default).parsebytes(MAIL)
    for name in ("from", "subject", "message-id", "content-type"):
        assert str(ours[name]) == str(stdlib[name])
        assert ours[name].defects == stdlib[name].defects
    assert ours["from"].addresses == stdlib["from"].addresses
    our_body, stdlib_body = ours.get_body(("plain", "html")), stdlib.get_body(("plain", "html"))
    assert our_body is not None and stdlib_body is not None
    assert our_body.get_content() == stdlib_body.get_content()
    assert [part.get_content_type() for part in ours.walk()] == [part.get_content_type() for part in stdlib.walk()]


def test_a_header_is_parsed_once_per_message() -> None:
    message = BytesParser(policy=message_policy()).parsebytes(MAIL)
    assert message["content-type"] is message["content-type"]
    assert message["subject"] is message["subject"]


def test_messages_do_not_share_parsed_headers() -> None:
    first = BytesParser(policy=message_policy()).parsebytes(MAIL)
    second = BytesParser(policy=message_policy()).parsebytes(MAIL)
    assert first["subject"] == second["subject"]
    assert first["subject"] is not second["subject"]
