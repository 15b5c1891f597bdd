"""Separating new text from quoted history and signatures, including the hr, sr, sk, sl and cs attributions."""

from __future__ import annotations

import pytest

from services.email_gateway.domain.replies import SplitReply, split_reply


@pytest.mark.parametrize(
    "attribution",
    [
        "On Mon, 23 Nov 2026 at 09:15, Support <support@example.com> wrote:",
        "Am 23.11.2026 um 09:15 schrieb Support <support@example.com>:",
        "Le lun. 23 nov. 2026 à 09:15, Support <support@example.com> a écrit :",
        "El lun, 23 nov 2026 a las 09:15, Support (<support@example.com>) escribió:",
        "Il giorno lun 23 nov 2026 alle ore 09:15 Support <support@example.com> ha scritto:",
        "Dana 23. 11. 2026. u 09:15, Support <support@example.com> je napisao/la:",
        "Dana 23.11.2026. u 09:15 Podrška je napisala:",
        "Support <support@example.com> je napisao:",
        "Dňa 23. 11. 2026 o 9:15 Support <support@example.com> napísal(a):",
        "Support <support@example.com> napísal:",
        "Dne 23. 11. 2026 v 9:15 Support <support@example.com> napsal(a):",
        "V pon., 23. nov. 2026 ob 09:15 je Support <support@example.com> napisal(a):",
        "W dniu 23.11.2026 o 09:15 Support <support@example.com> napisał(a):",
        "-----Original Message-----",
        "-----Izvorna poruka-----",
        "-------- Pôvodná správa --------",
        "---------- Forwarded message ---------",
    ],
)
def test_attribution_lines_open_the_quoted_history(attribution: str) -> None:
    text = f"Hvala, sada radi.\n\n{attribution}\n> Pokušajte ponovno pokrenuti uređaj.\n> Lijep pozdrav"
    split = split_reply(text)
    assert split.new_text == "Hvala, sada radi."
    assert split.quoted_text.startswith(attribution)
    assert split.quoted_text.endswith("> Lijep pozdrav")


def test_an_attribution_wrapped_over_two_lines_is_recognized() -> None:
    text = "Ďakujem.\n\nDňa 23. 11. 2026 o 9:15 Zákaznícka podpora\n<support@example.com> napísal(a):\n> Dobrý deň"
    assert split_reply(text) == SplitReply(
        "Ďakujem.", "Dňa 23. 11. 2026 o 9:15 Zákaznícka podpora\n<support@example.com> napísal(a):\n> Dobrý deň"
    )


def test_an_outlook_header_block_in_croatian_opens_the_history() -> None:
    text = (
        "Račun je i dalje pogrešan.\n\n"
        "Od: Podrška <support@example.com>\nPoslano: ponedjeljak, 23. studenog 2026. 09:15\n"
        "Prima: Ivana\nPredmet: Re: Račun\n\nPoštovana, ispravili smo račun."
    )
    split = split_reply(text)
    assert split.new_text == "Račun je i dalje pogrešan."
    assert split.quoted_text.startswith("Od: Podrška")


def test_a_signature_after_the_dash_dash_line_is_kept_apart() -> None:
    split = split_reply("Molim povrat novca.\n\n-- \nIvana Kupac\nTel. +385 1 234 5678")
    assert split == SplitReply("Molim povrat novca.", "-- \nIvana Kupac\nTel. +385 1 234 5678")


@pytest.mark.parametrize(
    "footer", ["Sent from my iPhone", "Poslano s mog iPhonea", "Odoslané z iPhonu", "Odesláno z mého telefonu"]
)
def test_phone_footers_are_signatures(footer: str) -> None:
    split = split_reply(f"Kde je môj balík?\n\n{footer}")
    assert split == SplitReply("Kde je môj balík?", footer)


def test_signature_and_history_are_both_kept_in_order() -> None:
    text = "Thanks!\n\n-- \nJohn\n\nOn Mon, 23 Nov 2026, Support wrote:\n> Hi John"
    split = split_reply(text)
    assert split.new_text == "Thanks!"
    assert split.quoted_text == "-- \nJohn\n\nOn Mon, 23 Nov 2026, Support wrote:\n> Hi John"


def test_inline_answers_between_quotes_are_not_cut_away() -> None:
    text = "> Which order is it?\nOrder 1234.\n> When did you pay?\nOn Monday."
    assert split_reply(text).new_text == text


def test_a_mail_without_history_is_all_new_text() -> None:
    assert split_reply("Dobrý deň,\nnefunguje mi internet.\n") == SplitReply("Dobrý deň,\nnefunguje mi internet.", "")


def test_a_mention_of_writing_mid_sentence_is_not_an_attribution() -> None:
    text = "Kolega mi je napisao da je sve u redu, ali nije. Molim provjeru."
    assert split_reply(text).new_text == text
