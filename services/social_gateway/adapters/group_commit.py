"""Group commit: the store writes of concurrent requests share one transaction instead of each paying for its own.

No thread of its own: the first caller to find no transaction running leads one for every write queued by then;
callers arriving meanwhile queue theirs and wait, and one of them leads the next. Alone, a caller leads at once,
so nothing waits for company; under load, each transaction carries every write that queued while the last ran.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

WriteT = TypeVar("WriteT")
ResultT = TypeVar("ResultT")


class _Queued(Generic[WriteT, ResultT]):
    __slots__ = ("done", "error", "result", "write")

    def __init__(self, write: WriteT) -> None:
        self.write = write
        self.done = False
        self.result: ResultT | None = None
        self.error: BaseException | None = None


class GroupCommit(Generic[WriteT, ResultT]):
    """`commit(writes)` runs one transaction for a batch and returns one result per write, in order; when it
    raises, every write of the batch fails with that error (none of them was committed)."""

    def __init__(self, commit: Callable[[Sequence[WriteT]], Sequence[ResultT]]) -> None:
        self._commit = commit
        self._changed = threading.Condition()
        self._queue: list[_Queued[WriteT, ResultT]] = []
        self._leading = False

    def submit(self, write: WriteT) -> ResultT:
        """The write's result once its transaction committed; its error otherwise."""
        mine: _Queued[WriteT, ResultT] = _Queued(write)
        with self._changed:
            self._queue.append(mine)
            while self._leading and not mine.done:
                self._changed.wait()
            if not mine.done:
                self._leading = True
                batch, self._queue = self._queue, []
        if not mine.done:
            self._lead(batch)
        if mine.error is not None:
            raise mine.error
        return mine.result  # type: ignore[return-value]

    def _lead(self, batch: list[_Queued[WriteT, ResultT]]) -> None:
        try:
            results = self._commit([queued.write for queued in batch])
            for queued, result in zip(batch, results, strict=True):
                queued.result = result
        except BaseException as error:
            for queued in batch:
                queued.error = error
        finally:
            with self._changed:
                for queued in batch:
                    queued.done = True
                self._leading = False
                self._changed.notify_all()
