"""Email addresses as identities: normalization, the stable customer id, and masking for logs."""

from __future__ import annotations

import contextlib
import hashlib
from email.headerregistry import Address
from email.utils import parseaddr


def normalize_address(address: str) -> str:
    """Lower-case, trimmed, IDNA domain decoded to Unicode: one spelling per mailbox."""
    _, bare = parseaddr(address)
    local, _, domain = bare.strip().rpartition("@")
    if not local or not domain:
        return ""
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("ascii").decode("idna")
    return f"{local.lower()}@{domain.lower().rstrip('.')}"


def customer_id_for(normalized_address: str) -> str:
    """A stable, non-reversible customer id, so the same person maps to the same customer everywhere."""
    digest = hashlib.sha256(normalized_address.encode()).hexdigest()[:24]
    return f"email-{digest}"


def mask_address(address: str) -> str:
    """`ivana.kupac@example.net` -> `i***@example.net`: enough to debug delivery, not enough to identify."""
    local, _, domain = address.rpartition("@")
    if not local:
        return "***"
    return f"{local[0]}***@{domain}"


def display_name_of(header_value: str) -> str:
    name, _ = parseaddr(header_value)
    return name.strip()


def format_address(display_name: str, address: str) -> str:
    local, _, domain = address.rpartition("@")
    return str(Address(display_name=display_name, username=local, domain=domain))
