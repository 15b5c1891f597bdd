"""The SQLite store of published message keys: claims, confirmations, releases, and survival across restarts."""

from __future__ import annotations

from pathlib import Path

from services.social_gateway.adapters.dedupe_store import SqliteSeenMessages


def test_claim_confirm_release_and_restart(tmp_path: Path) -> None:
    path = tmp_path / "published.sqlite3"
    store = SqliteSeenMessages(path, retention_s=3600)
    assert store.claim(["a", "b", "a"]) == ["a", "b"]
    assert store.claim(["a", "c"]) == ["c"]  # "a" is in flight elsewhere
    store.confirm("a")
    store.release(["b", "c"])
    assert store.claim(["a", "b"]) == ["b"]
    assert store.claim([]) == []
    store.close()

    reopened = SqliteSeenMessages(path, retention_s=3600)
    assert reopened.claim(["a", "b"]) == ["b"]
    reopened.close()


def test_keys_past_retention_are_forgotten(tmp_path: Path) -> None:
    path = tmp_path / "published.sqlite3"
    store = SqliteSeenMessages(path, retention_s=3600)
    store.confirm("old")
    store.close()
    assert SqliteSeenMessages(path, retention_s=-1).claim(["old"]) == ["old"]


def test_no_plain_keys_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "published.sqlite3"
    store = SqliteSeenMessages(path, retention_s=3600)
    store.confirm("telegram:demo-bot:385911234:42")
    store.close()
    assert b"385911234" not in path.read_bytes()
