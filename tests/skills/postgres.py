"""The throwaway PostgreSQL server of the skills tests: shared test support in `support.postgres`."""

from __future__ import annotations

from support.postgres import SKIP_REASON, TempPostgres, pg_bin_dir

__all__ = ["SKIP_REASON", "TempPostgres", "pg_bin_dir"]
