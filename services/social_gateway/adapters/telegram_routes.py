"""POST /webhooks/telegram/{bot_id}: one secret token per bot."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from services.social_gateway.adapters.http_api import WebhookFrontDoor
from services.social_gateway.adapters.webhook_pipeline import Delivery
from services.social_gateway.domain import telegram
from services.social_gateway.domain.signatures import verify_shared_secret
from services.social_gateway.settings import TelegramConfig

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ROUTE = "/webhooks/telegram/{bot_id}"


def telegram_router(config: TelegramConfig, front_door: WebhookFrontDoor) -> APIRouter:
    router = APIRouter()

    @router.post(ROUTE)
    async def telegram_webhook(bot_id: str, request: Request) -> Response:
        bot = config.bots.get(bot_id)
        if bot is None:
            front_door.pipeline.counters["telegram.unknown_bot"] += 1
            return JSONResponse({"error": "unknown bot"}, status_code=404)
        presented = request.headers.get(SECRET_HEADER)

        def delivery_for(body: bytes) -> Delivery:
            return Delivery(
                platform="telegram",
                route=ROUTE,
                body=body,
                verify=lambda: verify_shared_secret(presented, bot.secret_token),
                normalize=lambda raw: telegram.normalize(raw, bot_id),
                details={"bot_id": bot_id},
            )

        return await front_door.deliver(request, delivery_for, "telegram")

    return router
