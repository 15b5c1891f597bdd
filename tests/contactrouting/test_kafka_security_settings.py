"""Kafka security settings are checked at start, and turn into the kafka-python options every client gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from contactrouting.config import ServiceSettings, load_settings
from contactrouting.kafka_security import kafka_client_options

_VARIABLES = (
    "KAFKA_SECURITY_PROTOCOL",
    "KAFKA_SSL_CAFILE",
    "KAFKA_SSL_CERTFILE",
    "KAFKA_SSL_KEYFILE",
    "KAFKA_SASL_MECHANISM",
    "KAFKA_SASL_USERNAME",
    "KAFKA_SASL_PASSWORD",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in _VARIABLES:
        monkeypatch.delenv(variable, raising=False)


def _refused(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        load_settings(ServiceSettings)
    assert exited.value.code == 2
    return capsys.readouterr().err


def test_plaintext_by_default_without_security_options() -> None:
    assert kafka_client_options(ServiceSettings()) == {"security_protocol": "PLAINTEXT"}


def test_sasl_ssl_with_scram_gives_every_option(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("pem")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "sasl_ssl")
    monkeypatch.setenv("KAFKA_SSL_CAFILE", str(ca))
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "router")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "s3cret")
    settings = load_settings(ServiceSettings)
    assert kafka_client_options(settings) == {
        "security_protocol": "SASL_SSL",
        "ssl_check_hostname": True,
        "ssl_cafile": str(ca),
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "router",
        "sasl_plain_password": "s3cret",
    }
    assert "s3cret" not in repr(settings)


def test_mutual_tls_passes_the_client_certificate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("client.crt", "client.key"):
        (tmp_path / name).write_text("pem")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("KAFKA_SSL_CERTFILE", str(tmp_path / "client.crt"))
    monkeypatch.setenv("KAFKA_SSL_KEYFILE", str(tmp_path / "client.key"))
    options = kafka_client_options(load_settings(ServiceSettings))
    assert options["ssl_certfile"] == str(tmp_path / "client.crt")
    assert options["ssl_keyfile"] == str(tmp_path / "client.key")
    assert "sasl_mechanism" not in options


def test_credentials_over_plaintext_are_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _refused(monkeypatch, capsys, KAFKA_SASL_USERNAME="router", KAFKA_SASL_PASSWORD="s3cret")
    assert "KAFKA_SECURITY_PROTOCOL=PLAINTEXT" in err
    assert "s3cret" not in err


def test_sasl_plaintext_is_allowed_when_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "router")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "s3cret")
    options = kafka_client_options(load_settings(ServiceSettings))
    assert options["security_protocol"] == "SASL_PLAINTEXT"
    assert "ssl_cafile" not in options


def test_sasl_without_credentials_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _refused(monkeypatch, capsys, KAFKA_SECURITY_PROTOCOL="SASL_SSL", KAFKA_SASL_USERNAME="router")
    assert "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD" in err


def test_an_unknown_protocol_or_mechanism_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "KAFKA_SECURITY_PROTOCOL" in _refused(monkeypatch, capsys, KAFKA_SECURITY_PROTOCOL="TLS")
    monkeypatch.delenv("KAFKA_SECURITY_PROTOCOL")
    assert "KAFKA_SASL_MECHANISM" in _refused(monkeypatch, capsys, KAFKA_SASL_MECHANISM="GSSAPI")


def test_half_a_client_certificate_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "client.crt").write_text("pem")
    err = _refused(monkeypatch, capsys, KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SSL_CERTFILE=str(tmp_path / "client.crt"))
    assert "KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE" in err


def test_tls_files_need_a_tls_protocol_and_must_exist(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ca.crt").write_text("pem")
    err = _refused(monkeypatch, capsys, KAFKA_SSL_CAFILE=str(tmp_path / "ca.crt"))
    assert "KAFKA_SSL_CAFILE is set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT" in err
    err = _refused(monkeypatch, capsys, KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SSL_CAFILE=str(tmp_path / "missing.crt"))
    assert "KAFKA_SSL_CAFILE: file not found" in err
