"""Group commit: concurrent writes share transactions, and each caller gets its own result or its batch's error."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.social_gateway.adapters.group_commit import GroupCommit


class Ledger:
    """A commit that takes a while, so writes queue behind it; fails the batches holding a poisoned write."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.first_running = threading.Event()
        self.release_first = threading.Event()

    def commit(self, writes: Sequence[int]) -> list[int]:
        if not self.batches:
            self.batches.append(list(writes))
            self.first_running.set()
            self.release_first.wait(5)
        else:
            self.batches.append(list(writes))
        if -1 in writes:
            raise RuntimeError("store down")
        return [write * 10 for write in writes]


def test_writes_queued_behind_a_transaction_share_the_next_one_and_each_gets_its_own_result() -> None:
    ledger = Ledger()
    group = GroupCommit(ledger.commit)
    with ThreadPoolExecutor(max_workers=6) as pool:
        first = pool.submit(group.submit, 0)
        assert ledger.first_running.wait(5)
        queued = [pool.submit(group.submit, n) for n in range(1, 6)]
        deadline = time.monotonic() + 5
        while len(group._queue) < 5 and time.monotonic() < deadline:  # all five wait behind the running one
            time.sleep(0.01)
        ledger.release_first.set()
        assert first.result(5) == 0
        assert [future.result(5) for future in queued] == [10, 20, 30, 40, 50]
    assert ledger.batches[0] == [0]
    assert sorted(n for batch in ledger.batches[1:] for n in batch) == [1, 2, 3, 4, 5]
    assert len(ledger.batches) == 2, "the five queued writes shared one transaction"


def test_a_failed_transaction_fails_every_write_in_it_and_the_next_one_runs() -> None:
    ledger = Ledger()
    ledger.release_first.set()
    group = GroupCommit(ledger.commit)
    with pytest.raises(RuntimeError, match="store down"):
        group.submit(-1)
    assert group.submit(7) == 70
