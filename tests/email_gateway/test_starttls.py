"""Optional STARTTLS on inbound SMTP: offered only with a configured certificate, and mail flows over it."""

from __future__ import annotations

import datetime
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from contactrouting.topics import ensure_topics
from contactrouting.v1 import contact_pb2

from .conftest import contacts_with_subject, start_gateway

pytestmark = pytest.mark.integration


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "email-gateway.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_mail_is_accepted_over_starttls(kafka_bootstrap: str, tmp_path: Path) -> None:
    ensure_topics(kafka_bootstrap, partitions=3, replication_factor=1)
    cert, key = self_signed_certificate(tmp_path)
    tls_gateway = start_gateway(
        tmp_path / "gateway", kafka_bootstrap, SMTP_TLS_CERT_FILE=str(cert), SMTP_TLS_KEY_FILE=str(key)
    )
    try:
        client_context = ssl.create_default_context(cafile=str(cert))
        client_context.check_hostname = False
        mail = EmailMessage()
        mail["From"] = "customer@example.net"
        mail["To"] = "support@example.com"
        mail["Subject"] = f"Over TLS {uuid.uuid4().hex[:8]}"
        mail.set_content("Please keep this private.")
        with smtplib.SMTP("127.0.0.1", tls_gateway.smtp_port, timeout=30) as smtp:
            smtp.ehlo()
            assert smtp.has_extn("starttls")
            smtp.starttls(context=client_context)
            assert isinstance(smtp.sock, ssl.SSLSocket) and smtp.sock.version() in ("TLSv1.2", "TLSv1.3")
            smtp.send_message(mail)
        [record] = contacts_with_subject(tls_gateway, str(mail["Subject"]))
        assert isinstance(record.message, contact_pb2.ContactEvent)
        assert record.message.body_text == "Please keep this private."
    finally:
        assert tls_gateway.stop() == 0, tls_gateway.process.log_tail()
