"""The PII scanner must find what it is told to find, in plain and JSON-escaped form, and name where."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.pii import assert_no_pii, find_pii, telemetry_texts


def test_finds_an_address_case_insensitively_and_names_the_line() -> None:
    leaks = find_pii([("router.jsonl", 'ok\n{"customer":"Ana.Horvat@Example.com"}\n')], ["ana.horvat@example.com"])

    assert [(leak.source, leak.line, leak.needle) for leak in leaks] == [("router.jsonl", 2, "ana.horvat@example.com")]


def test_finds_a_body_in_json_escaped_form() -> None:
    body = 'Račun "12" nije stigao'
    line = json.dumps({"attributes": {"body": body}})

    assert find_pii([("spans", line)], [body])


def test_clean_texts_pass_and_dirty_ones_fail_with_the_source(tmp_path: Path) -> None:
    (tmp_path / "router.jsonl").write_text('{"contact_id":"c-1"}\n')
    (tmp_path / "email_gateway.log").write_text('{"event":"smtp_received","from":"ana@example.com"}\n')
    (tmp_path / "ignored.bin").write_text("ana@example.com")

    texts = telemetry_texts(tmp_path)

    assert [Path(source).name for source, _ in texts] == ["email_gateway.log", "router.jsonl"]
    assert_no_pii([texts[1], "metrics_total 1"], ["ana@example.com"])
    with pytest.raises(AssertionError, match=r"email_gateway\.log:1: 'ana@example\.com'"):
        assert_no_pii(texts, ["ana@example.com"])


def test_refuses_an_empty_forbidden_list() -> None:
    with pytest.raises(AssertionError, match="at least one"):
        assert_no_pii(["anything"], [""])
