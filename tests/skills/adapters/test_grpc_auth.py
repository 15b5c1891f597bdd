from __future__ import annotations

import pytest

from services.skills.adapters.grpc_auth import Role, TokenAuthority, bearer_token
from services.skills.adapters.grpc_servicer import decode_page_token, encode_page_token
from services.skills.domain.errors import InvalidField

AUTHORITY = TokenAuthority(admin_token="admin-secret", read_token="read-secret")


@pytest.mark.parametrize(
    ("metadata", "token"),
    [
        ((("authorization", "Bearer abc"),), "abc"),
        ((("authorization", "bearer  abc "),), "abc"),
        ((("x-other", "1"), ("authorization", "Bearer abc")), "abc"),
        ((("authorization", "Basic abc"),), None),
        ((("authorization", b"Bearer abc"),), None),
        ((), None),
    ],
)
def test_the_bearer_token_is_read_from_the_authorization_metadata(metadata: tuple, token: str | None) -> None:
    assert bearer_token(metadata) == token


def test_each_token_grants_its_role_and_nothing_else() -> None:
    assert AUTHORITY.role_of("admin-secret") is Role.ADMIN
    assert AUTHORITY.role_of("read-secret") is Role.READER
    assert AUTHORITY.role_of("admin-secre") is None
    assert AUTHORITY.role_of("") is None
    assert Role.READER < Role.ADMIN


def test_page_tokens_round_trip_and_belong_to_one_kind() -> None:
    token = encode_page_token("agents", "ana.horvat")
    assert decode_page_token("agents", token) == "ana.horvat"
    assert encode_page_token("agents", None) == ""
    assert decode_page_token("agents", "") is None
    with pytest.raises(InvalidField, match="page_token"):
        decode_page_token("skills", token)
    with pytest.raises(InvalidField, match="page_token"):
        decode_page_token("agents", "%%%")
