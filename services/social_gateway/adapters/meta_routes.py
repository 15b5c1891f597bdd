"""GET and POST /webhooks/meta: the subscription handshake, and signed Messenger, Instagram and WhatsApp events."""

from __future__ import annotations

import hmac
import re

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from services.social_gateway.adapters.http_api import WebhookFrontDoor
from services.social_gateway.adapters.webhook_pipeline import Delivery
from services.social_gateway.domain import meta
from services.social_gateway.domain.signatures import verify_meta_signature
from services.social_gateway.settings import MetaConfig

SIGNATURE_HEADER = "X-Hub-Signature-256"
_CHALLENGE = re.compile(r"[A-Za-z0-9_.-]{1,256}")
ROUTE = "/webhooks/meta"


def meta_router(config: MetaConfig, front_door: WebhookFrontDoor) -> APIRouter:
    router = APIRouter()

    @router.get(ROUTE)
    def meta_handshake(request: Request) -> Response:
        params = request.query_params
        token = params.get("hub.verify_token", "")
        valid = bool(config.verify_token) and hmac.compare_digest(token.encode(), config.verify_token.encode())
        if params.get("hub.mode") != "subscribe" or not valid:
            front_door.pipeline.counters["meta.handshake_refused"] += 1
            return JSONResponse({"error": "verification failed"}, status_code=403)
        challenge = params.get("hub.challenge", "")
        # Meta's challenge is a short token; echoing anything else would make us a reflector for arbitrary text.
        if not _CHALLENGE.fullmatch(challenge):
            return JSONResponse({"error": "bad challenge"}, status_code=400)
        return PlainTextResponse(challenge)

    @router.post(ROUTE)
    async def meta_webhook(request: Request) -> Response:
        signature = request.headers.get(SIGNATURE_HEADER)

        def delivery_for(body: bytes) -> Delivery:
            return Delivery(
                platform="meta",
                route=ROUTE,
                body=body,
                verify=lambda: verify_meta_signature(signature, body, config.app_secret),
                normalize=meta.normalize,
            )

        return await front_door.deliver(request, delivery_for, "meta")

    return router
