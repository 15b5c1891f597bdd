"""HTTP calls to the platforms' send APIs; each attempt ends as an AttemptOutcome, never as an exception."""

from __future__ import annotations

import httpx

from services.social_gateway.domain.delivery_policy import AttemptOutcome, classify
from services.social_gateway.domain.replies import PlatformRequest

_ERROR_SNIPPET = 200


class PlatformClient:
    def __init__(self, timeout_s: float) -> None:
        self._http = httpx.Client(timeout=timeout_s, headers={"User-Agent": "contact-routing-social-gateway"})

    def send(self, request: PlatformRequest) -> AttemptOutcome:
        headers = {"Authorization": f"Bearer {request.bearer_token}"} if request.bearer_token else {}
        try:
            response = self._http.post(request.url, json=request.body, headers=headers)
        except httpx.HTTPError as error:
            # The message names the exception only: Telegram URLs carry the bot token.
            return classify(None, None, type(error).__name__)
        detail = "" if response.is_success else _error_detail(response)
        return classify(response.status_code, response.headers.get("Retry-After"), detail)

    def close(self) -> None:
        self._http.close()


def _error_detail(response: httpx.Response) -> str:
    """The platform's error message (Graph `error.message`, Telegram `description`, X `detail`), shortened."""
    try:
        payload = response.json()
    except ValueError:
        return ""
    if not isinstance(payload, dict):
        return ""
    error = payload.get("error")
    candidates = [
        error.get("message") if isinstance(error, dict) else None,
        payload.get("description"),
        payload.get("detail"),
        payload.get("title"),
    ]
    text = next((str(value) for value in candidates if value), "")
    return text[:_ERROR_SNIPPET]
