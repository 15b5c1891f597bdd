"""The skills service's settings, from env vars with local defaults."""

from __future__ import annotations

from pydantic import Field, model_validator

from contactrouting.config import DEFAULT_SKILLS_GRPC_PORT, ServiceSettings


class SkillsSettings(ServiceSettings):
    skills_grpc_host: str = "127.0.0.1"
    skills_grpc_port: int = Field(default=DEFAULT_SKILLS_GRPC_PORT, ge=0, le=65535)
    # Empty means the embedded default: a SQLite file `skills.db` under DATA_DIR.
    database_url: str = ""
    skills_admin_token: str = Field(default="demo-admin-token", min_length=8)
    skills_read_token: str = Field(default="demo-read-token", min_length=8)
    outbox_batch_size: int = Field(default=500, ge=1, le=10_000)
    outbox_poll_interval_ms: int = Field(default=500, ge=10)
    # How long one wait for acks lasts before the relay logs that it is still waiting.
    outbox_publish_timeout_ms: int = Field(default=5000, ge=100)
    # How long the producer retries a record before failing it; the relay then starts over with a new producer.
    outbox_delivery_timeout_ms: int = Field(default=30_000, ge=1000)
    outbox_retention_hours: int = Field(default=24, ge=0)

    @model_validator(mode="after")
    def _delivery_outlasts_a_request(self) -> SkillsSettings:
        if self.outbox_delivery_timeout_ms < self.kafka_request_timeout_ms + 2:
            raise ValueError("OUTBOX_DELIVERY_TIMEOUT_MS must be at least KAFKA_REQUEST_TIMEOUT_MS")
        return self

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'skills.db').resolve()}"
