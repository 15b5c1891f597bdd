"""The FastAPI app: health endpoints and the shared front door of every webhook (size limit, rate limit)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from services.social_gateway.adapters.webhook_pipeline import Answer, Delivery, WebhookPipeline
from services.social_gateway.domain.rate_limit import RateLimiter


class WebhookFrontDoor:
    """What every webhook route does before the platform-specific part: throttle, bound the body, hand off."""

    def __init__(
        self, pipeline: WebhookPipeline, limiter: RateLimiter, max_body_bytes: int, handlers: Executor
    ) -> None:
        self.pipeline = pipeline
        self._limiter = limiter
        self._max_body_bytes = max_body_bytes
        # The pipeline blocks until Kafka acks, so it runs on these threads (their number bounds the webhooks in
        # flight). A plain executor: anyio's run_in_threadpool costs four times its CPU per request.
        self._handlers = handlers

    def throttled(self, request: Request, platform: str) -> Response | None:
        client = request.client.host if request.client else "unknown"
        if self._limiter.allow(f"{platform}:{client}"):
            return None
        self.pipeline.counters[f"{platform}.rate_limited"] += 1
        return JSONResponse(
            {"error": "rate limit exceeded"},
            status_code=429,
            headers={"Retry-After": str(self._limiter.retry_after_s())},
        )

    async def read_body(self, request: Request) -> bytes | None:
        """The raw body (signatures cover raw bytes), or None when it exceeds the limit."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_body_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self._max_body_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def deliver(self, request: Request, delivery_for: Callable[[bytes], Delivery], platform: str) -> Response:
        refused = self.throttled(request, platform)
        if refused is not None:
            return refused
        body = await self.read_body(request)
        if body is None:
            self.pipeline.counters[f"{platform}.oversize"] += 1
            return JSONResponse({"error": "body too large"}, status_code=413)
        delivery = delivery_for(body)
        answer: Answer = await asyncio.get_running_loop().run_in_executor(
            self._handlers, self.pipeline.handle, delivery
        )
        return JSONResponse(answer.body, status_code=answer.status)


def create_http_app(front_door: WebhookFrontDoor, is_ready: Callable[[], bool]) -> FastAPI:
    # FastAPI's own telemetry is off: the pipeline opens the receive span itself, as the root of the contact's
    # trace (platforms send no trace context worth trusting), and FastAPI's exception logs could carry bodies.
    app = FastAPI(
        title="social gateway",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )

    @app.get("/healthz")
    def healthz() -> dict[str, object]:
        return {"status": "ok", "counters": dict(front_door.pipeline.counters)}

    @app.get("/readyz")
    def readyz() -> Response:
        ready = is_ready()
        return JSONResponse({"ready": ready}, status_code=200 if ready else 503)

    return app
