"""The store of claimed message keys, on SQLite and PostgreSQL: claims, confirmations, releases, restarts, and
replicas sharing one database, where each key is won by exactly one of them however they race."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa

from contactrouting.database import create_engine
from services.social_gateway.adapters.dedupe_store import SqlSeenMessages

TABLE = "social_published_messages"
LEASE_S = 60.0


def store(engine: sa.Engine, retention_s: float = 3600, claim_lease_s: float = LEASE_S) -> SqlSeenMessages:
    return SqlSeenMessages(engine, TABLE, retention_s, claim_lease_s)


def test_claim_confirm_release_and_restart(open_engine: Callable[[], sa.Engine]) -> None:
    seen = store(open_engine())
    assert seen.claim(["a", "b", "a"]) == ["a", "b"]
    assert seen.claim(["a", "c"]) == ["c"]  # "a" is in flight
    seen.confirm("a")
    seen.release(["b", "c"])
    assert seen.claim(["a", "b"]) == ["b"]
    assert seen.claim([]) == []
    seen.release(["a"])  # a confirmed key stays confirmed

    reopened = store(open_engine())
    assert reopened.claim(["a", "d"]) == ["d"]


def test_keys_past_retention_are_forgotten(store_engine: sa.Engine) -> None:
    store(store_engine).confirm("old")
    assert store(store_engine, retention_s=-1).claim(["old"]) == ["old"]


def test_the_stores_of_one_database_are_apart(store_engine: sa.Engine) -> None:
    store(store_engine).confirm("k")
    assert SqlSeenMessages(store_engine, "social_sent_messages", 3600, LEASE_S).claim(["k"]) == ["k"]


def test_no_plain_keys_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "published.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    store(engine).confirm("telegram:demo-bot:385911234:42")
    engine.dispose()
    assert b"385911234" not in path.read_bytes()


def test_replicas_on_one_database_see_each_others_claims(open_engine: Callable[[], sa.Engine]) -> None:
    first, second = store(open_engine()), store(open_engine())
    assert first.claim(["retried", "other"]) == ["retried", "other"]
    assert second.claim(["retried"]) == []  # in flight on the first replica
    second.release(["retried"])  # not its claim: nothing happens
    assert second.claim(["retried"]) == []
    first.confirm("retried")
    assert second.claim(["retried"]) == []  # published: the platform's retry is a duplicate
    first.release(["other"])  # its publish failed
    assert second.claim(["other"]) == ["other"]


def test_a_claim_of_a_replica_that_died_lapses(open_engine: Callable[[], sa.Engine]) -> None:
    died = store(open_engine())
    assert died.claim(["k"]) == ["k"]
    patient = store(open_engine(), claim_lease_s=3600)
    assert patient.claim(["k"]) == []
    survivor = store(open_engine(), claim_lease_s=0)
    assert survivor.claim(["k"]) == ["k"]  # the claim is older than the lease: taken over
    died.release(["k"])  # late: no longer its claim
    assert patient.claim(["k"]) == []
    survivor.confirm("k")
    assert store(open_engine(), claim_lease_s=0).claim(["k"]) == []  # confirmed keys never lapse


def test_racing_replicas_win_each_key_exactly_once(open_engine: Callable[[], sa.Engine]) -> None:
    replicas = [store(open_engine()) for _ in range(4)]
    keys = [f"m{n}" for n in range(40)]

    def claim_all(replica: SqlSeenMessages, offset: int) -> list[str]:
        # Overlapping batches in different orders, as concurrent retries of one webhook would arrive.
        won: list[str] = []
        for start in range(0, len(keys), 8):
            batch = keys[start : start + 8]
            won += replica.claim(list(reversed(batch)) if offset % 2 else batch)
        return won

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(claim_all, replicas * 2, range(8)))
    won = [key for result in results for key in result]
    assert sorted(won) == sorted(keys)


def test_replicas_starting_together_create_the_table_once(open_engine: Callable[[], sa.Engine]) -> None:
    engines = [open_engine() for _ in range(3)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        stores = list(pool.map(store, engines))
    assert stores[0].claim(["x"]) == ["x"]
    assert [replica.claim(["x"]) for replica in stores[1:]] == [[], []]


def test_a_claim_in_flight_is_neither_claimable_nor_confirmed_until_it_is(store_engine: sa.Engine) -> None:
    killed, restarted = store(store_engine), store(store_engine)
    assert killed.claim(["k"]) == ["k"]
    assert restarted.claim(["k"]) == [] and restarted.confirmed(["k"]) == set()
    killed.confirm("k")
    assert restarted.confirmed(["k", "other"]) == {"k"}
