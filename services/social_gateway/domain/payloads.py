"""The base of every platform payload model, and the one way a validation failure becomes a rejection."""

from __future__ import annotations

from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.social_gateway.domain.messages import MalformedPayload

# Platform ids become Kafka keys and dedupe keys: an empty one is a malformed payload, not an id.
PlatformId = Annotated[str, Field(min_length=1, max_length=256)]


class PlatformModel(BaseModel):
    # Platforms add fields over time; unknown ones must not reject a delivery.
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


ModelT = TypeVar("ModelT", bound=BaseModel)


def parse(model: type[ModelT], raw: bytes) -> ModelT:
    """Validate a raw body against the model; any failure becomes MalformedPayload with a reason free of content."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        problem = error.errors(include_input=False, include_url=False)[0]
        location = ".".join(map(_location_part, problem["loc"])) or "body"
        raise MalformedPayload(f"{problem['type']} at {location}: {problem['msg']}", problem["type"]) from None


def _location_part(part: int | str) -> str:
    """List indices and field names are kept; a map key with digits in it is a user or message id (X keys its
    `users` by id), which the reason must not carry into logs and dead letters."""
    if isinstance(part, str) and any(character.isdigit() for character in part):
        return "*"
    return str(part)
