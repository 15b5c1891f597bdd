"""The small HTML pages a customer sees after clicking a rating link, in their language (en, hr, sk; else en)."""

from __future__ import annotations

from enum import Enum
from html import escape

DEFAULT_LANGUAGE = "en"


class Page(Enum):
    THANKS = "thanks"
    ALREADY_RECORDED = "already_recorded"
    EXPIRED = "expired"
    INVALID = "invalid"
    UNAVAILABLE = "unavailable"


# (title, message); THANKS formats {rating} and {best}.
_TEXTS: dict[str, dict[Page, tuple[str, str]]] = {
    "en": {
        Page.THANKS: ("Thank you", "Thank you! We recorded your rating: {rating} of {best}."),
        Page.ALREADY_RECORDED: ("Already recorded", "Your rating was already recorded. Thank you!"),
        Page.EXPIRED: ("Link expired", "This rating link has expired."),
        Page.INVALID: ("Invalid link", "This rating link is not valid. Please use the link from our message."),
        Page.UNAVAILABLE: (
            "Please try again later",
            "We could not record your rating just now. Please open the link again in a few minutes.",
        ),
    },
    "hr": {
        Page.THANKS: ("Hvala", "Hvala! Zabilježili smo vašu ocjenu: {rating} od {best}."),
        Page.ALREADY_RECORDED: ("Već zabilježeno", "Vaša je ocjena već zabilježena. Hvala!"),
        Page.EXPIRED: ("Poveznica je istekla", "Ova poveznica za ocjenjivanje je istekla."),
        Page.INVALID: (
            "Nevaljana poveznica",
            "Ova poveznica za ocjenjivanje nije valjana. Molimo upotrijebite poveznicu iz naše poruke.",
        ),
        Page.UNAVAILABLE: (
            "Pokušajte kasnije",
            "Trenutačno ne možemo zabilježiti vašu ocjenu. Molimo otvorite poveznicu ponovno za nekoliko minuta.",
        ),
    },
    "sk": {
        Page.THANKS: ("Ďakujeme", "Ďakujeme! Zaznamenali sme vaše hodnotenie: {rating} z {best}."),
        Page.ALREADY_RECORDED: ("Už zaznamenané", "Vaše hodnotenie už bolo zaznamenané. Ďakujeme!"),
        Page.EXPIRED: ("Platnosť odkazu vypršala", "Platnosť tohto odkazu na hodnotenie vypršala."),
        Page.INVALID: (
            "Neplatný odkaz",
            "Tento odkaz na hodnotenie nie je platný. Použite, prosím, odkaz z našej správy.",
        ),
        Page.UNAVAILABLE: (
            "Skúste to neskôr",
            "Vaše hodnotenie sa teraz nepodarilo zaznamenať. Otvorte, prosím, odkaz znova o niekoľko minút.",
        ),
    },
}


def page_language(ticket_language: str, accept_language: str) -> str:
    """The ticket's language when we have a page in it, else the browser's first we have, else English."""
    for candidate in [ticket_language, *_accepted(accept_language)]:
        primary = candidate.strip().lower().replace("_", "-").partition("-")[0]
        if primary in _TEXTS:
            return primary
    return DEFAULT_LANGUAGE


def render_page(page: Page, language: str, rating: int = 0, best: int = 0) -> str:
    texts = _TEXTS.get(language, _TEXTS[DEFAULT_LANGUAGE])
    title, message = texts[page]
    text = message.format(rating=rating, best=best) if page is Page.THANKS else message
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(language)}">\n<head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head>\n"
        '<body style="font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em;line-height:1.4">\n'
        f"<h1>{escape(title)}</h1>\n<p>{escape(text)}</p>\n</body>\n</html>\n"
    )


def _accepted(header: str) -> list[str]:
    """Accept-Language tags, most preferred first (RFC 9110 quality values; unparsable ones count as 0)."""
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]
