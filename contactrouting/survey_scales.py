"""The survey scales as people and URLs name them, their rating ranges, and the one-click rating link.

Shared by whoever writes a rating link (the email gateway) and whoever answers it (the social gateway's
`/feedback/{ticket}` endpoint), so both agree on `?scale=csat&rating=4` to the character.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from contactrouting.v1 import contact_pb2

Scale = contact_pb2.SurveyScale

SCALE_NAMES: dict[Scale, str] = {contact_pb2.SURVEY_SCALE_CSAT: "csat", contact_pb2.SURVEY_SCALE_NPS: "nps"}
_SCALES_BY_NAME = {name: scale for scale, name in SCALE_NAMES.items()}
# CSAT 1 (very dissatisfied) to 5 (very satisfied); NPS 0 (not at all likely to recommend) to 10 (extremely likely).
_RATINGS: dict[Scale, range] = {contact_pb2.SURVEY_SCALE_CSAT: range(1, 6), contact_pb2.SURVEY_SCALE_NPS: range(0, 11)}
FEEDBACK_PATH = "/feedback"


def scale_named(name: str) -> Scale | None:
    """The SurveyScale a link calls `name` ("csat", "nps"), or None."""
    return _SCALES_BY_NAME.get(name)


def ratings(scale: Scale) -> range:
    """The valid ratings of a scale, lowest first; empty for an unknown scale."""
    return _RATINGS.get(scale, range(0))


def rating_link(base_url: str, ticket: str, scale: Scale, rating: int) -> str:
    """`{base_url}/feedback/{ticket}?scale=csat&rating=4`: one click records the rating."""
    query = urlencode({"scale": SCALE_NAMES[scale], "rating": rating})
    return f"{base_url.rstrip('/')}{FEEDBACK_PATH}/{quote(ticket, safe='')}?{query}"
