"""Language detection shared by both gateways; both models ship inside their wheels, nothing is downloaded.

py3langid decides first (about 50 µs a message). When its best guess is one of the close languages hr, sr, bs,
sl, sk, cs and it is unsure, lingua (restricted to those languages) breaks the tie: each candidate scores the
product of both models' probabilities. lingua's Serbian model is Cyrillic-only and files Latin-script Serbian
under Bosnian, so its Bosnian probability stands in for Serbian; py3langid then separates sr from bs.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder
from py3langid.langid import MODEL_FILE, LanguageIdentifier

# The languages our customers write in; restricting the model makes short texts far more reliable.
SUPPORTED_LANGUAGES = (
    "en",
    "de",
    "fr",
    "es",
    "it",
    "hr",
    "sr",
    "bs",
    "sl",
    "sk",
    "cs",
    "pl",
    "pt",
    "nl",
    "hu",
)
UNDETERMINED = "und"

# The close languages the tie-breaker decides between, and the lingua model that speaks for each.
_LINGUA_MODEL_FOR: Mapping[str, Language] = {
    "hr": Language.CROATIAN,
    "sr": Language.BOSNIAN,
    "bs": Language.BOSNIAN,
    "sl": Language.SLOVENE,
    "sk": Language.SLOVAK,
    "cs": Language.CZECH,
}
# Order numbers, ticket tags, URLs and addresses carry no language but sway character n-gram models.
_NOT_WORDS = re.compile(r"\S*\d\S*|\S+@\S+|https?://\S+|www\.\S+")
# A few sentences decide the language; a long mail's tail would only cost time.
_MAX_CHARS = 2000
# Above this py3langid confidence the tie-breaker is not consulted.
_SURE_ENOUGH = 0.9


@dataclass(frozen=True)
class DetectedLanguage:
    language: str
    confidence: float


@lru_cache(maxsize=1)
def _open_identifier() -> LanguageIdentifier:
    """All 97 py3langid languages, for text that is mostly not in Latin script (Japanese, Greek, Cyrillic…)."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    # A copy of the loaded model: copying takes a tenth of the time of loading the file a second time.
    identifier = copy.deepcopy(_open_identifier())
    identifier.set_languages(list(SUPPORTED_LANGUAGES))
    return identifier


@lru_cache(maxsize=1)
def _tie_breaker() -> LanguageDetector:
    # Preloaded: lingua otherwise loads a language's models only when a text could be in it, so a warm-up text
    # with "ý" or "ň" would leave the Croatian, Bosnian and Slovene models for the first customer to wait on.
    languages = dict.fromkeys(_LINGUA_MODEL_FOR.values())
    return LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()


def warm_up() -> None:
    """Load both models now, so the first customer message does not pay for it (lingua takes ~2 s)."""
    _identifier()
    _open_identifier()
    _tie_breaker().compute_language_confidence_values("dobrý deň")


def detect_language(text: str, hint: str = "", min_confidence: float = 0.5) -> DetectedLanguage:
    """Detect the language of `text`; the platform's hint wins when detection is unsure."""
    cleaned = " ".join(_NOT_WORDS.sub(" ", text[: _MAX_CHARS * 2]).split())[:_MAX_CHARS]
    normalized_hint = hint.split("-")[0].lower() if hint else ""
    if not cleaned:
        return DetectedLanguage(normalized_hint or UNDETERMINED, 0.0)
    language, confidence = _detect(cleaned)
    if confidence < min_confidence and normalized_hint:
        return DetectedLanguage(normalized_hint, confidence)
    return DetectedLanguage(language, confidence)


def _detect(text: str) -> tuple[str, float]:
    if not _mostly_latin(text):
        language, probability = _open_identifier().classify(text)
        return str(language), float(probability)
    ranked = {language: float(probability) for language, probability in _identifier().rank(text)}
    language = max(ranked, key=ranked.__getitem__)
    if language in _LINGUA_MODEL_FOR and ranked[language] < _SURE_ENOUGH:
        return _break_tie(text, ranked)
    return language, ranked[language]


def _mostly_latin(text: str) -> bool:
    letters = [character for character in text if character.isalpha()]
    latin = sum(1 for character in letters if character < "\u0250")  # Basic Latin up to Latin Extended-B
    return latin * 2 >= len(letters)


def _break_tie(text: str, ranked: Mapping[str, float]) -> tuple[str, float]:
    """The close language with the best product of both models' probabilities, and its share of all products."""
    lingua = {value.language: value.value for value in _tie_breaker().compute_language_confidence_values(text)}
    scores = {
        language: ranked.get(language, 0.0) * lingua.get(model, 0.0) for language, model in _LINGUA_MODEL_FOR.items()
    }
    total = sum(scores.values())
    if total == 0.0:
        best = max(_LINGUA_MODEL_FOR, key=lambda language: ranked.get(language, 0.0))
        return best, ranked.get(best, 0.0)
    best = max(scores, key=scores.__getitem__)
    close_mass = sum(ranked.get(language, 0.0) for language in _LINGUA_MODEL_FOR)
    return best, scores[best] / total * close_mass
