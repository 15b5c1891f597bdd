"""Replies out through a relay that wants TLS and a login, as submission relays do: a real aiosmtpd relay."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import ValidationError
from support.pki import write_pki

from devstack.ports import free_port
from services.email_gateway.adapters.smtp_relay import DeliveryError, RelaySecurity, RelayTls, SmtpRelay
from services.email_gateway.config import EmailGatewaySettings

# aiosmtpd warns of AUTH without STARTTLS even where the connection is TLS from its first byte.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
USER, PASSWORD = "gateway", "relay-secret"


class Kept:
    def __init__(self) -> None:
        self.sessions: list[tuple[str | None, bool, list[str]]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address.startswith("gone@"):
            return "550 5.1.1 <gone@example.net>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data.decode() if session.authenticated else None
        encrypted = server.transport.get_extra_info("ssl_object") is not None
        self.sessions.append((login, encrypted, list(envelope.rcpt_tos)))
        return "250 OK"


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    valid = isinstance(data, LoginPassword) and (data.login, data.password) == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=valid, handled=False, auth_data=data.login if valid else None)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_pki(tmp_path_factory.mktemp("relay-pki"), "relay")


def server_context(pki: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki / "relay.crt", pki / "relay.key")
    return context


def running_relay(**options: Any) -> Iterator[tuple[Kept, int]]:
    handler, port = Kept(), free_port()
    controller = Controller(handler, hostname="localhost", port=port, authenticator=authenticate, **options)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
def submission_relay(pki: Path) -> Iterator[tuple[Kept, int]]:
    """Port-587 style: STARTTLS required before anything, then AUTH required before MAIL."""
    yield from running_relay(
        tls_context=server_context(pki), require_starttls=True, auth_required=True, auth_require_tls=True
    )


@pytest.fixture
def implicit_tls_relay(pki: Path) -> Iterator[tuple[Kept, int]]:
    """Port-465 style: TLS from the first byte (aiosmtpd counts only STARTTLS as TLS, hence auth_require_tls)."""
    yield from running_relay(ssl_context=server_context(pki), auth_required=True, auth_require_tls=False)


def reply_to(recipient: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "support@example.com"
    mail["To"] = recipient
    mail["Subject"] = "Re: your order [#AB12CD]"
    mail.set_content("It is on its way.")
    return mail


def trusting(pki: Path, tls: RelayTls, password: str = PASSWORD) -> RelaySecurity:
    return RelaySecurity(tls, USER, password, ssl.create_default_context(cafile=str(pki / "ca.crt")))


def test_starttls_then_login_then_send(submission_relay: tuple[Kept, int], pki: Path) -> None:
    handler, port = submission_relay

    SmtpRelay("localhost", port, trusting(pki, RelayTls.STARTTLS)).send(
        reply_to("ana@example.net"), "support@example.com", "ana@example.net"
    )

    assert handler.sessions == [(USER, True, ["ana@example.net"])]


def test_implicit_tls_then_login_then_send(implicit_tls_relay: tuple[Kept, int], pki: Path) -> None:
    handler, port = implicit_tls_relay

    SmtpRelay("localhost", port, trusting(pki, RelayTls.TLS)).send(
        reply_to("ana@example.net"), "support@example.com", "ana@example.net"
    )

    assert handler.sessions == [(USER, True, ["ana@example.net"])]


def test_a_refused_login_is_a_permanent_failure(submission_relay: tuple[Kept, int], pki: Path) -> None:
    _, port = submission_relay
    relay = SmtpRelay("localhost", port, trusting(pki, RelayTls.STARTTLS, password="wrong"))

    with pytest.raises(DeliveryError) as failure:
        relay.send(reply_to("ana@example.net"), "support@example.com", "ana@example.net")

    assert failure.value.permanent and str(failure.value).startswith("SMTP 535")


def test_an_untrusted_certificate_is_never_sent_credentials(submission_relay: tuple[Kept, int]) -> None:
    handler, port = submission_relay
    relay = SmtpRelay("localhost", port, RelaySecurity(RelayTls.STARTTLS, USER, PASSWORD))  # system CAs only

    with pytest.raises(DeliveryError) as failure:
        relay.send(reply_to("ana@example.net"), "support@example.com", "ana@example.net")

    assert not failure.value.permanent  # the operator fixes the CA; the reply is retried, not lost
    assert "SSL" in str(failure.value) and handler.sessions == []


def test_the_relays_refusal_is_kept_with_the_address_masked(submission_relay: tuple[Kept, int], pki: Path) -> None:
    _, port = submission_relay
    relay = SmtpRelay("localhost", port, trusting(pki, RelayTls.STARTTLS))

    with pytest.raises(DeliveryError) as failure:
        relay.send(reply_to("gone@example.net"), "support@example.com", "gone@example.net")

    assert failure.value.permanent
    assert str(failure.value) == "SMTP 550 5.1.1 <g***@example.net>: Recipient address rejected: User unknown"


def test_a_login_in_the_clear_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_RELAY_USERNAME", USER)
    monkeypatch.setenv("SMTP_RELAY_PASSWORD", PASSWORD)

    with pytest.raises(ValidationError, match="SMTP_RELAY_TLS=starttls or tls"):
        EmailGatewaySettings()
    monkeypatch.setenv("SMTP_RELAY_TLS", "starttls")
    assert EmailGatewaySettings().smtp_relay_tls is RelayTls.STARTTLS
