"""GET /feedback/{ticket}?scale=csat&rating=4: the one-click rating links of survey mails."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from contactrouting.survey_scales import FEEDBACK_PATH
from services.social_gateway.adapters.http_api import WebhookFrontDoor
from services.social_gateway.adapters.rating_links import RatingLinks

ROUTE = FEEDBACK_PATH + "/{ticket}"
# The ticket is in the URL: no caching anywhere, no Referer to other sites, no indexing; the page runs no script.
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}


def feedback_router(links: RatingLinks, front_door: WebhookFrontDoor) -> APIRouter:
    router = APIRouter()

    # A plain `def`: FastAPI runs it in a worker thread, where waiting for Kafka's ack blocks nobody else.
    @router.get(ROUTE)
    def rating_link(ticket: str, request: Request) -> Response:
        throttled = front_door.throttled(request, "feedback")
        if throttled is not None:
            return throttled
        params = request.query_params
        answer = links.answer(
            ticket, params.get("scale", ""), params.get("rating", ""), request.headers.get("accept-language", "")
        )
        return HTMLResponse(answer.html, status_code=answer.status, headers=_HEADERS)

    return router
