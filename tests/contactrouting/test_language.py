"""Language detection on short, realistic customer messages: accuracy per language, and the tie-breaker's part."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from contactrouting.language import UNDETERMINED, _identifier, detect_language

_SAMPLES_FILE = yaml.safe_load(Path(__file__).with_name("language_samples.yaml").read_text(encoding="utf-8"))
SAMPLES: dict[str, list[str]] = _SAMPLES_FILE["samples"]
SHORT_SAMPLES: dict[str, list[str]] = _SAMPLES_FILE["very_short"]


def _accuracy(samples: dict[str, list[str]]) -> dict[str, float]:
    return {
        language: sum(detect_language(text).language == language for text in texts) / len(texts)
        for language, texts in samples.items()
    }


def test_every_language_is_told_apart_on_short_customer_messages() -> None:
    accuracy = _accuracy(SAMPLES)
    total = sum(len(texts) for texts in SAMPLES.values())
    correct = sum(accuracy[language] * len(texts) for language, texts in SAMPLES.items())
    print(f"\nlanguage accuracy {correct:.0f}/{total}: " + ", ".join(f"{k} {v:.0%}" for k, v in accuracy.items()))
    assert set(SAMPLES) == {"hr", "sr", "sk", "sl", "cs", "pl", "de", "en", "es", "fr", "it"}
    assert correct / total >= 0.98
    assert min(accuracy.values()) >= 0.9, accuracy


def test_the_tie_breaker_beats_py3langid_alone_on_very_short_close_language_messages() -> None:
    texts = [(language, text) for language, group in SHORT_SAMPLES.items() for text in group]
    combined = sum(detect_language(text).language == language for language, text in texts)
    langid_alone = sum(_identifier().classify(text)[0] == language for language, text in texts)
    print(f"\nvery short close-language messages: {combined}/{len(texts)} (py3langid alone {langid_alone})")
    assert combined > langid_alone
    assert combined / len(texts) >= 0.9


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Kje je moj paket?", "sl"),  # py3langid alone says hr
        ("Dobrý deň, nefunguje mi prihlásenie do aplikácie.", "sk"),
        ("Dobrý den, nefunguje mi přihlášení do aplikace.", "cs"),
        ("Hteo bih da otkažem pretplatu. Šta treba da uradim?", "sr"),
        ("Trebao bih promijeniti adresu za dostavu, kako to mogu učiniti?", "hr"),
    ],
)
def test_close_languages(text: str, language: str) -> None:
    assert detect_language(text).language == language


def test_empty_text_falls_back_to_the_hint_or_undetermined() -> None:
    assert detect_language("   ") == detect_language("", hint="")
    assert detect_language("").language == UNDETERMINED
    assert detect_language("", hint="hr-HR").language == "hr"
    assert detect_language("").confidence == 0.0


def test_the_hint_wins_only_when_detection_is_unsure() -> None:
    assert detect_language("ok", hint="de").language == "de"
    sure = detect_language("Guten Tag, ich kann mich nicht in der App anmelden.", hint="en")
    assert sure.language == "de" and sure.confidence > 0.9


def test_order_numbers_tags_and_addresses_do_not_sway_the_verdict() -> None:
    plain = "Problem s računom\nDobar dan, imam problem s računom za ovaj mjesec. Molim vas pomoć."
    noisy = (
        "Problem s računom 3f9a2b71 [#AB12CD]\nDobar dan, imam problem s računom 2024-11-0042 za ovaj mjesec. "
        "Molim vas pomoć. ivana.kupac@example.net https://example.com/racun/42"
    )
    assert detect_language(noisy).language == detect_language(plain).language == "hr"
    assert detect_language(noisy).confidence == pytest.approx(detect_language(plain).confidence)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("注文した商品がまだ届きません。確認をお願いします。", "ja"),
        ("Здраво, да ли могу да променим адресу испоруке?", "sr"),
        ("Здравствуйте, у меня не работает приложение.", "ru"),  # noqa: RUF001
    ],
)
def test_text_mostly_outside_latin_script_uses_every_py3langid_language(text: str, language: str) -> None:
    assert detect_language(text).language == language


def test_only_the_first_sentences_of_a_long_text_are_read() -> None:
    opening = "Guten Tag, ich kann mich nicht in der App anmelden. Können Sie mir bitte helfen? " * 30
    assert detect_language(opening + "Hi, I can't log in to the app. " * 5000).language == "de"
