"""Threading rules: references nearest first, reference tags, dedupe keys."""

from __future__ import annotations

from services.email_gateway.domain.parsing import parse_mail
from services.email_gateway.domain.threads import (
    TAG_ALPHABET,
    contact_id_for,
    dedupe_key,
    new_reference_tag,
    reference_tag_in,
    referenced_ids,
    tagged_subject,
)


def test_referenced_ids_are_nearest_first_without_repeats() -> None:
    mail = parse_mail(b"From: a@example.net\r\nIn-Reply-To: <3@x>\r\nReferences: <1@x> <2@x> <3@x>\r\n\r\nhi\r\n")
    assert referenced_ids(mail) == ["<3@x>", "<2@x>", "<1@x>"]


def test_reference_tags_are_found_in_any_case_and_added_once() -> None:
    assert reference_tag_in("Re: Račun [#AB23CD]") == "AB23CD"
    assert reference_tag_in("re: račun [#ab23cd]") == "AB23CD"
    assert reference_tag_in("Order [#1234] arrived") is None
    assert tagged_subject("Račun", "AB23CD") == "Račun [#AB23CD]"
    assert tagged_subject("Re: Račun [#AB23CD]", "AB23CD") == "Re: Račun [#AB23CD]"


def test_new_tags_use_only_unambiguous_characters() -> None:
    tags = {new_reference_tag() for _ in range(200)}
    assert len(tags) == 200
    assert all(len(tag) == 6 and set(tag) <= set(TAG_ALPHABET) for tag in tags)
    assert not set("01IO") & set(TAG_ALPHABET)


def test_dedupe_key_is_the_message_id_or_the_content_hash() -> None:
    with_id = parse_mail(b"From: a@example.net\r\nMessage-ID: <m@x>\r\n\r\nhi\r\n")
    without_id = parse_mail(b"From: a@example.net\r\n\r\nhi\r\n")
    assert dedupe_key(with_id) == "<m@x>"
    assert dedupe_key(without_id) == f"sha256:{without_id.content_sha256}"


def test_the_contact_id_follows_the_dedupe_key_so_a_republished_mail_is_one_contact() -> None:
    assert contact_id_for("<m@x>") == contact_id_for("<m@x>")
    assert contact_id_for("<m@x>") != contact_id_for("<n@x>")
