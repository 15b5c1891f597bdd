"""The SMTP protocol's own address parsing answers exactly as aiosmtpd's, which it replaces for speed."""

from __future__ import annotations

import pytest
from aiosmtpd.smtp import SMTP

from services.email_gateway.adapters.smtp_server import ThriftySmtp

ARGUMENTS = [
    "",
    "<>",
    "<ivana@example.net>",
    " <ivana@example.net> SIZE=1000 BODY=8BITMIME",
    "ivana@example.net",
    "ivana@example.net SIZE=10",
    "<@relay.example:ivana@example.net>",
    '<"ivana kupac"@example.net>',
    "<ivana@[192.0.2.1]>",
    "<ivana.kupac@example.net",
    "<<ivana@example.net>>",
    "not an address",
    "<ivana@>",
    "<@example.net>",
    "<" + "x" * 65 + "@example.net>",
    "<šime@primjer.hr> SMTPUTF8",
]


@pytest.mark.parametrize("local_part_limit", [0, 64])
@pytest.mark.parametrize("argument", ARGUMENTS)
def test_addresses_parse_as_aiosmtpd_parses_them(argument: str, local_part_limit: int) -> None:
    ours, theirs = ThriftySmtp.__new__(ThriftySmtp), SMTP.__new__(SMTP)
    ours.local_part_limit = theirs.local_part_limit = local_part_limit
    assert ours._getaddr(argument) == theirs._getaddr(argument)
