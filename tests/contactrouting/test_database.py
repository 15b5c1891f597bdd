"""SQLite set-up: a new file switches to WAL even while another connection holds it locked for a moment."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from contactrouting.database import _use_wal


def test_the_switch_to_wal_waits_out_a_lock_that_sqlite_will_not_wait_for(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    # timeout=0: the lock surfaces at once as "database is locked", as it does when SQLite avoids a deadlock.
    opener = sqlite3.connect(path, isolation_level=None, timeout=0)
    released = threading.Timer(0.05, lambda: holder.execute("COMMIT"))
    released.start()
    try:
        _use_wal(opener.cursor())
    finally:
        released.join()
        holder.close()

    assert opener.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    opener.close()


def test_a_file_already_in_wal_is_left_as_it_is(tmp_path: Path) -> None:
    first = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    _use_wal(first.cursor())
    reader = sqlite3.connect(tmp_path / "store.db", isolation_level=None, timeout=0)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a reader in WAL blocks no one

    second = sqlite3.connect(tmp_path / "store.db", isolation_level=None, timeout=0)
    _use_wal(second.cursor())

    assert second.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    for connection in (reader, second, first):
        connection.close()
