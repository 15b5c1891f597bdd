"""Language detection shared by both gateways: py3langid, whose model ships inside its wheel."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

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


@dataclass(frozen=True)
class DetectedLanguage:
    language: str
    confidence: float


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(SUPPORTED_LANGUAGES))
    return identifier


def detect_language(text: str, hint: str = "", min_confidence: float = 0.5) -> DetectedLanguage:
    """Detect the language of `text`; the platform's hint wins when detection is unsure."""
    cleaned = text.strip()
    normalized_hint = hint.split("-")[0].lower() if hint else ""
    if not cleaned:
        return DetectedLanguage(normalized_hint or UNDETERMINED, 0.0)
    language, confidence = _identifier().classify(cleaned)
    if confidence < min_confidence and normalized_hint:
        return DetectedLanguage(normalized_hint, float(confidence))
    return DetectedLanguage(str(language), float(confidence))
