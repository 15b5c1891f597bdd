"""Where the gateway's stores live: one shared database for every replica, or SQLite files under DATA_DIR."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from contactrouting.database import create_engine


class StoreEngines:
    """One pooled engine for a database URL (PostgreSQL: replicas share claims and surveys); without a URL, one
    SQLite file per store, so the intake and the reply sender never wait for each other's write lock."""

    def __init__(self, database_url: str, sqlite_dir: Path) -> None:
        self._database_url = database_url
        self._sqlite_dir = sqlite_dir
        self._engines: dict[str, sa.Engine] = {}

    @property
    def shared(self) -> bool:
        return bool(self._database_url)

    def engine(self, store: str) -> sa.Engine:
        name = "" if self.shared else store
        if name not in self._engines:
            if self.shared:
                self._engines[name] = create_engine(self._database_url)
            else:
                self._sqlite_dir.mkdir(parents=True, exist_ok=True)
                self._engines[name] = create_engine(f"sqlite:///{(self._sqlite_dir / f'{store}.sqlite3').resolve()}")
        return self._engines[name]

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
