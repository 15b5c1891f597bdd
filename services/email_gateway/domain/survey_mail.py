"""A satisfaction survey as mail: the router's prompt, then one-click rating links per scale, as text and HTML."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from contactrouting.survey_scales import SCALE_NAMES, Scale, rating_link, ratings
from contactrouting.v1 import contact_pb2

DEFAULT_LANGUAGE = "en"
# What each row of links asks, with the meaning of its ends; the router's body_text says why we ask.
_QUESTIONS: dict[str, dict[Scale, str]] = {
    "en": {
        contact_pb2.SURVEY_SCALE_CSAT: "How satisfied are you with our help? "
        "(1 = very dissatisfied, 5 = very satisfied)",
        contact_pb2.SURVEY_SCALE_NPS: "How likely are you to recommend us to a friend or colleague? "
        "(0 = not at all likely, 10 = extremely likely)",
    },
    "hr": {
        contact_pb2.SURVEY_SCALE_CSAT: "Koliko ste zadovoljni našom pomoći? "
        "(1 = vrlo nezadovoljni, 5 = vrlo zadovoljni)",
        contact_pb2.SURVEY_SCALE_NPS: "Koliko je vjerojatno da biste nas preporučili prijatelju ili kolegi? "
        "(0 = nimalo vjerojatno, 10 = iznimno vjerojatno)",
    },
    "sk": {
        contact_pb2.SURVEY_SCALE_CSAT: "Ako ste spokojní s našou pomocou? (1 = veľmi nespokojný, 5 = veľmi spokojný)",
        contact_pb2.SURVEY_SCALE_NPS: "Aká je pravdepodobnosť, že by ste nás odporučili priateľovi alebo kolegovi? "
        "(0 = vôbec nie, 10 = určite áno)",
    },
}
_ONE_CLICK = {
    "en": "One click on a number records your rating.",
    "hr": "Jedan klik na broj bilježi vašu ocjenu.",
    "sk": "Jedným kliknutím na číslo zaznamenáte svoje hodnotenie.",
}
_BUTTON_STYLE = (
    "display:inline-block;min-width:1.6em;margin:2px;padding:6px 8px;border:1px solid #888;border-radius:4px;"
    "text-align:center;text-decoration:none;color:#123;font-weight:bold"
)


class SurveyNotRenderable(ValueError):
    """A survey mail without working rating links must not go out: the reason names what is missing."""


@dataclass(frozen=True)
class ScaleLinks:
    scale: Scale
    question: str
    # (rating, link), lowest rating first.
    links: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class SurveyMail:
    text: str
    html: str


def survey_links(base_url: str, ticket: str, scales: Sequence[Scale], language: str) -> list[ScaleLinks]:
    if not base_url:
        raise SurveyNotRenderable("FEEDBACK_BASE_URL is not set: no rating links")
    if not ticket:
        raise SurveyNotRenderable("the survey carries no ticket")
    known = [scale for scale in dict.fromkeys(scales) if scale in SCALE_NAMES]
    if not known:
        raise SurveyNotRenderable("the survey names no known scale")
    questions = _QUESTIONS.get(_primary(language), _QUESTIONS[DEFAULT_LANGUAGE])
    return [
        ScaleLinks(
            scale,
            questions[scale],
            tuple((rating, rating_link(base_url, ticket, scale, rating)) for rating in ratings(scale)),
        )
        for scale in known
    ]


def render_survey(prompt: str, language: str, survey: contact_pb2.Survey, base_url: str, title: str = "") -> SurveyMail:
    """The mail's text/plain and text/html parts; raises SurveyNotRenderable when links cannot be built."""
    scales = survey_links(base_url, survey.ticket, list(survey.scales), language)
    one_click = _ONE_CLICK.get(_primary(language), _ONE_CLICK[DEFAULT_LANGUAGE])
    return SurveyMail(_text(prompt, scales, one_click), _html(prompt, scales, one_click, language, title))


def _text(prompt: str, scales: list[ScaleLinks], one_click: str) -> str:
    parts = [prompt.strip()] if prompt.strip() else []
    for scale in scales:
        rows = "\n".join(f"  {rating}: {link}" for rating, link in scale.links)
        parts.append(f"{scale.question}\n{rows}")
    parts.append(one_click)
    return "\n\n".join(parts) + "\n"


def _html(prompt: str, scales: list[ScaleLinks], one_click: str, language: str, title: str) -> str:
    paragraphs = [
        "<p>" + "<br>".join(escape(line) for line in block.strip().splitlines()) + "</p>"
        for block in prompt.replace("\r\n", "\n").split("\n\n")
        if block.strip()
    ]
    for scale in scales:
        buttons = "\n".join(
            f'<a href="{escape(link)}" style="{_BUTTON_STYLE}">{rating}</a>' for rating, link in scale.links
        )
        paragraphs.append(f"<p>{escape(scale.question)}</p>\n<p>{buttons}</p>")
    paragraphs.append(f'<p style="color:#555;font-size:small">{escape(one_click)}</p>')
    body = "\n".join(paragraphs)
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(_primary(language) or DEFAULT_LANGUAGE)}">\n'
        f'<head><meta charset="utf-8"><title>{escape(title)}</title></head>\n'
        f'<body style="font-family:sans-serif;line-height:1.4">\n{body}\n</body>\n</html>\n'
    )


def _primary(language: str) -> str:
    """ "hr-HR" -> "hr": the templates are per language, not per region."""
    return language.strip().lower().replace("_", "-").partition("-")[0]
