"""GET and POST /webhooks/x: the CRC challenge, and signed Account Activity events."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from services.social_gateway.adapters.http_api import WebhookFrontDoor
from services.social_gateway.adapters.webhook_pipeline import Delivery
from services.social_gateway.domain import x
from services.social_gateway.domain.signatures import verify_x_signature, x_crc_response
from services.social_gateway.settings import XConfig

SIGNATURE_HEADER = "x-twitter-webhooks-signature"
ROUTE = "/webhooks/x"


def x_router(config: XConfig, front_door: WebhookFrontDoor) -> APIRouter:
    router = APIRouter()

    @router.get(ROUTE)
    def x_crc(request: Request) -> Response:
        crc_token = request.query_params.get("crc_token", "")
        if not crc_token or not config.consumer_secret:
            return JSONResponse({"error": "crc_token required"}, status_code=400)
        return JSONResponse({"response_token": x_crc_response(crc_token, config.consumer_secret)})

    @router.post(ROUTE)
    async def x_webhook(request: Request) -> Response:
        signature = request.headers.get(SIGNATURE_HEADER)

        def delivery_for(body: bytes) -> Delivery:
            return Delivery(
                platform="x",
                route=ROUTE,
                body=body,
                verify=lambda: verify_x_signature(signature, body, config.consumer_secret),
                normalize=x.normalize,
            )

        return await front_door.deliver(request, delivery_for, "x")

    return router
