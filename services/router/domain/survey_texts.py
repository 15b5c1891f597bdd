"""What a satisfaction survey says, per language: built-in English, Croatian and Slovak texts, and the prompt.

Every prompt names its whole rating range in words, so a customer on a text-only platform (X) can answer with a
bare number and nothing else has to be rendered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# The scales a queue may ask, by the names the policy and rating links use, with their valid ratings.
SCALE_RATINGS: dict[str, range] = {"csat": range(1, 6), "nps": range(0, 11)}
FALLBACK_LANGUAGE = "en"


@dataclass(frozen=True, slots=True)
class SurveyText:
    subject: str
    csat_prompt: str
    nps_prompt: str
    # A closing line after the questions; empty for none.
    thanks: str = ""
    # Email opens with this instead of the prompts: the email gateway asks each question beside its rating links.
    email_intro: str = ""

    def prompt_for(self, scale: str) -> str:
        return self.csat_prompt if scale == "csat" else self.nps_prompt


BUILT_IN_TEXTS: dict[str, SurveyText] = {
    "en": SurveyText(
        subject="How did we do?",
        csat_prompt=(
            "How satisfied are you with the help you received? "
            "Reply with a number from 1 (very dissatisfied) to 5 (very satisfied)."
        ),
        nps_prompt=(
            "How likely are you to recommend us to a friend or colleague? "
            "Reply with a number from 0 (not at all likely) to 10 (extremely likely)."
        ),
        thanks="Thank you for helping us improve.",
        email_intro="Your request has been resolved. Please tell us how we did.",
    ),
    "hr": SurveyText(
        subject="Kako smo vam pomogli?",
        csat_prompt=(
            "Koliko ste zadovoljni pomoći koju ste dobili? "
            "Odgovorite brojem od 1 (vrlo nezadovoljni) do 5 (vrlo zadovoljni)."
        ),
        nps_prompt=(
            "Koliko je vjerojatno da biste nas preporučili prijatelju ili kolegi? "
            "Odgovorite brojem od 0 (nimalo vjerojatno) do 10 (vrlo vjerojatno)."
        ),
        thanks="Hvala vam što nam pomažete da budemo bolji.",
        email_intro="Vaš je upit riješen. Recite nam kako smo vam pomogli.",
    ),
    "sk": SurveyText(
        subject="Ako sme vám pomohli?",
        csat_prompt=(
            "Ako ste spokojní s pomocou, ktorú ste dostali? "
            "Odpovedzte číslom od 1 (veľmi nespokojní) do 5 (veľmi spokojní)."
        ),
        nps_prompt=(
            "Aká je pravdepodobnosť, že by ste nás odporučili priateľovi alebo kolegovi? "
            "Odpovedzte číslom od 0 (vôbec nepravdepodobné) do 10 (veľmi pravdepodobné)."
        ),
        thanks="Ďakujeme, že nám pomáhate zlepšovať sa.",
        email_intro="Vaša požiadavka bola vybavená. Povedzte nám, ako sme vám pomohli.",
    ),
}


def language_key(tag: str) -> str:
    """The primary subtag a template is filed under ("hr-HR" -> "hr")."""
    return tag.strip().replace("_", "-").split("-")[0].lower()


def email_prompt(text: SurveyText) -> str:
    """An email survey's text: the intro and thanks; the questions come with their one-click links."""
    return "\n\n".join(part for part in (text.email_intro, text.thanks) if part)


def survey_prompt(text: SurveyText, scales: Sequence[str]) -> str:
    """The complete text of the survey: one question per scale (numbered when there are several), then thanks."""
    questions = [text.prompt_for(scale) for scale in scales]
    if len(questions) > 1:
        questions = [f"{number}. {question}" for number, question in enumerate(questions, 1)]
    return "\n\n".join([*questions, text.thanks] if text.thanks else questions)


def quick_replies(scale: str) -> list[str]:
    """The answers of one scale as quick-reply labels, lowest first ("1".."5" or "0".."10")."""
    return [str(rating) for rating in SCALE_RATINGS[scale]]
