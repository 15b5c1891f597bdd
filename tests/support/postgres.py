"""A throwaway PostgreSQL server (Debian's `postgresql` package) on a free loopback port, for the tests."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from devstack.ports import free_port

# Debian keeps the server binaries out of PATH, under /usr/lib/postgresql/<major>/bin.
SEARCH = ("/usr/lib/postgresql/*/bin",)
SKIP_REASON = "PostgreSQL not installed (apt-get install postgresql): the PostgreSQL variants are skipped"


def pg_bin_dir() -> Path | None:
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(os.path.realpath(on_path)).parent
    for pattern in SEARCH:
        for candidate in sorted(glob.glob(pattern), reverse=True):
            if (Path(candidate) / "pg_ctl").exists() and (Path(candidate) / "initdb").exists():
                return Path(candidate)
    return None


@dataclass
class TempPostgres:
    bin_dir: Path
    root: Path
    port: int

    @classmethod
    def start(cls, bin_dir: Path) -> TempPostgres:
        # PostgreSQL refuses to run as root; then the server runs as the `postgres` user in a directory it owns.
        root = Path(tempfile.mkdtemp(prefix="pg-"))
        server = cls(bin_dir, root, free_port())
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
        server._run("initdb", "-D", str(root / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        server.resume()
        return server

    def resume(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.root / "data"),
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-o",
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off",
            "start",
        )

    def pause(self) -> None:
        """Stop the server but keep its data, as in a database outage."""
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        import psycopg

        name = f"test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        except RuntimeError:
            pass  # already stopped
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin_dir / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=self.root)
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr or result.stdout}")
