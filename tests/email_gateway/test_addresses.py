"""Addresses as customer identities, and masking for logs."""

from __future__ import annotations

from services.email_gateway.domain.addresses import customer_id_for, mask_address, normalize_address


def test_the_same_person_maps_to_the_same_customer() -> None:
    spellings = ["Ivana Kupac <Ivana.Kupac@Example.NET>", "ivana.kupac@example.net", " <IVANA.KUPAC@EXAMPLE.NET.> "]
    normalized = {normalize_address(spelling) for spelling in spellings}
    assert normalized == {"ivana.kupac@example.net"}
    assert customer_id_for("ivana.kupac@example.net") == customer_id_for(normalize_address(spellings[0]))
    assert customer_id_for("ivana.kupac@example.net") != customer_id_for("ivan.kupac@example.net")


def test_customer_ids_do_not_reveal_the_address() -> None:
    customer_id = customer_id_for("ivana.kupac@example.net")
    assert customer_id.startswith("email-") and "ivana" not in customer_id and len(customer_id) == 30


def test_idna_domains_are_decoded_and_garbage_is_empty() -> None:
    assert normalize_address("ana@xn--mller-kva.example") == "ana@müller.example"
    assert normalize_address("not an address") == ""


def test_masking_keeps_only_the_first_letter_and_the_domain() -> None:
    assert mask_address("ivana.kupac@example.net") == "i***@example.net"
    assert mask_address("garbage") == "***"
