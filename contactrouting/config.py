"""Settings shared by every service, read from env vars with local defaults."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_BROKER_PORT = 19092
DEFAULT_SMTP_PORT = 2525
DEFAULT_WEBHOOK_PORT = 8080
DEFAULT_ROUTER_GRPC_PORT = 50051
DEFAULT_SKILLS_GRPC_PORT = 50052

KafkaSecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
KafkaSaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]


class ServiceSettings(BaseSettings):
    """The part of every service's settings that the shared plumbing reads."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    kafka_bootstrap_servers: str = Field(default=f"127.0.0.1:{DEFAULT_BROKER_PORT}", min_length=3)
    # Tansu joins a consumer group in about session_timeout/2; real Kafka accepts these values too.
    kafka_session_timeout_ms: int = Field(default=6000, ge=1000)
    kafka_heartbeat_interval_ms: int = Field(default=2000, ge=100)
    kafka_request_timeout_ms: int = Field(default=10000, ge=1000)
    # How long the broker may hold a fetch when there is no data. Kafka answers as soon as data arrives; tansu holds
    # the fetch for the whole wait, so on tansu every hop costs about half of it (devstack sets 20 ms).
    kafka_fetch_max_wait_ms: int = Field(default=500, ge=0, le=10000)
    # Transport security and authentication towards the brokers (contactrouting.kafka_security builds the options).
    kafka_security_protocol: KafkaSecurityProtocol = "PLAINTEXT"
    kafka_ssl_cafile: Path | None = None  # the broker's CA; the system trust store when unset
    kafka_ssl_certfile: Path | None = None  # client certificate and key: mTLS
    kafka_ssl_keyfile: Path | None = None
    kafka_sasl_mechanism: KafkaSaslMechanism = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    topic_partitions: int = Field(default=3, ge=1)
    topic_replication_factor: int = Field(default=1, ge=1)

    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR|debug|info|warning|error)$")
    log_format: str = Field(default="auto", pattern="^(auto|json|console)$")
    otel_exporter_otlp_endpoint: str = ""
    trace_dir: Path = Path("var/traces")
    data_dir: Path = Path("var/data")
    metrics_port: int = Field(default=0, ge=0, le=65535, description="Prometheus scrape port; 0 disables it.")
    # gRPC servers use TLS when a certificate and key are given, and mTLS when a client CA is given too.
    grpc_tls_cert_file: Path | None = None
    grpc_tls_key_file: Path | None = None
    grpc_tls_client_ca_file: Path | None = None

    @model_validator(mode="after")
    def _tls_files_come_in_pairs(self) -> ServiceSettings:
        if (self.grpc_tls_cert_file is None) != (self.grpc_tls_key_file is None):
            raise ValueError("GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE must be set together")
        if self.grpc_tls_client_ca_file is not None and self.grpc_tls_cert_file is None:
            raise ValueError("GRPC_TLS_CLIENT_CA_FILE (mTLS) needs GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE")
        for path in (self.grpc_tls_cert_file, self.grpc_tls_key_file, self.grpc_tls_client_ca_file):
            if path is not None and not path.is_file():
                raise ValueError(f"TLS file not found: {path}")
        return self

    @field_validator("kafka_security_protocol", "kafka_sasl_mechanism", mode="before")
    @classmethod
    def _upper_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _kafka_security_is_coherent(self) -> ServiceSettings:
        protocol = self.kafka_security_protocol
        sasl = protocol.startswith("SASL_")
        tls = protocol in ("SSL", "SASL_SSL")
        has_credentials = bool(self.kafka_sasl_username or self.kafka_sasl_password.get_secret_value())
        if has_credentials and not sasl:
            raise ValueError(
                f"KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are set but KAFKA_SECURITY_PROTOCOL={protocol} does not "
                "authenticate: use SASL_SSL (or SASL_PLAINTEXT, which sends them unencrypted, only if you mean it)"
            )
        if sasl and not (self.kafka_sasl_username and self.kafka_sasl_password.get_secret_value()):
            raise ValueError(f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
        if (self.kafka_ssl_certfile is None) != (self.kafka_ssl_keyfile is None):
            raise ValueError("KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE (mTLS) must be set together")
        files = {
            "KAFKA_SSL_CAFILE": self.kafka_ssl_cafile,
            "KAFKA_SSL_CERTFILE": self.kafka_ssl_certfile,
            "KAFKA_SSL_KEYFILE": self.kafka_ssl_keyfile,
        }
        for variable, path in files.items():
            if path is None:
                continue
            if not tls:
                raise ValueError(f"{variable} is set but KAFKA_SECURITY_PROTOCOL={protocol} does not use TLS")
            if not path.is_file():
                raise ValueError(f"{variable}: file not found: {path}")
        return self


SettingsT = TypeVar("SettingsT", bound=BaseSettings)
# A rejected value of these is never echoed: it may be a real secret with a typo in it.
_SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|KEY|DATABASE_URL")


def load_settings(settings_class: type[SettingsT]) -> SettingsT:
    """Build settings from the environment, or exit with a message naming each bad variable."""
    try:
        return settings_class()
    except ValidationError as error:
        lines = [f"invalid configuration for {settings_class.__name__}:"]
        for problem in error.errors():
            variable = "_".join(str(part) for part in problem["loc"]).upper()
            if variable and _SECRET_NAME.search(variable):
                lines.append(f"  {variable}: {problem['msg']} (value hidden)")
            elif variable:
                lines.append(f"  {variable}: {problem['msg']} (got {problem.get('input')!r})")
            else:
                lines.append(f"  {problem['msg']}")
        print("\n".join(lines), file=sys.stderr)
        raise SystemExit(2) from None
