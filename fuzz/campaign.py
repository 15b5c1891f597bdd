"""One campaign: N hypothesis cases against a target, each ending in an event, a rejection, a crash or a hang."""

from __future__ import annotations

import hashlib
import signal
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"


@dataclass(frozen=True)
class Event:
    """The input became what the service makes of good input (a contact, a policy, an OK response)."""

    kind: str


@dataclass(frozen=True)
class Rejection:
    """The input was refused the documented way (a domain exception, a gRPC status other than UNKNOWN/INTERNAL)."""

    kind: str


class Crash(Exception):
    """Raised by a target for a failure it detects itself (an error logged by the service, a dead process)."""


class Hang(BaseException):
    """A case ran past the target's time bound (a BaseException, so a target's own `except Exception` cannot eat it)."""


Verdict = Event | Rejection


@dataclass
class Target:
    name: str
    strategy: st.SearchStrategy[Any]
    run_case: Callable[[Any], Verdict]
    # Corpus files <-> cases: bytes targets use the file content as it is.
    encode: Callable[[Any], bytes] = bytes
    decode: Callable[[bytes], Any] = bytes
    hang_after_s: float = 2.0
    # Where the target's processes live (services under test); entered around the whole campaign.
    environment: Callable[[], AbstractContextManager[Any]] = nullcontext
    # Checked after the campaign (e.g. the service still reports SERVING); raises Crash otherwise.
    after: Callable[[], None] = lambda: None
    # Run once before the clock starts (model loading and such must not count as a hang).
    warm_up: Callable[[], None] = lambda: None

    @property
    def corpus_dir(self) -> Path:
        return CORPUS_DIR / self.name

    def corpus(self) -> list[Any]:
        if not self.corpus_dir.is_dir():
            return []
        return [self.decode(path.read_bytes()) for path in sorted(self.corpus_dir.iterdir()) if path.is_file()]


@dataclass
class Tally:
    target: str
    cases: int = 0
    events: int = 0
    rejections: Counter[str] = field(default_factory=Counter)
    crashes: Counter[str] = field(default_factory=Counter)
    hangs: int = 0
    slowest_s: float = 0.0
    elapsed_s: float = 0.0
    saved: list[Path] = field(default_factory=list)
    started_at: float = field(default_factory=time.perf_counter)
    saved_per_kind: Counter[str] = field(default_factory=Counter)

    @property
    def failed(self) -> bool:
        return bool(self.crashes) or self.hangs > 0

    @staticmethod
    def counter(counts: dict[str, int]) -> Counter[str]:
        return Counter(counts)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "cases": self.cases,
            "events": self.events,
            "rejections": dict(self.rejections),
            "crashes": dict(self.crashes),
            "hangs": self.hangs,
            "slowest_s": self.slowest_s,
            "elapsed_s": self.elapsed_s,
            "saved": [str(path) for path in self.saved],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tally:
        return cls(
            target=data["target"],
            cases=data["cases"],
            events=data["events"],
            rejections=Counter(data["rejections"]),
            crashes=Counter(data["crashes"]),
            hangs=data["hangs"],
            slowest_s=data["slowest_s"],
            elapsed_s=data["elapsed_s"],
            saved=[Path(path) for path in data["saved"]],
        )


Progress = Callable[[Tally, int], None]


def run_campaign(target: Target, cases: int, crash_dir: Path, progress: Progress, every: int) -> Tally:
    """Run the corpus as explicit examples, then `cases` generated ones; never stops at the first failure."""
    tally = Tally(target.name)
    seeds = target.corpus()

    def one(case: Any) -> None:
        started = time.perf_counter()
        try:
            with _time_bound(target.hang_after_s * 5):
                verdict = target.run_case(case)
        except Hang:
            verdict = None
            tally.hangs += 1
            _save(target, tally, crash_dir, case, "hang")
        except Exception as error:  # anything undocumented is the finding this campaign exists for
            verdict = None
            tally.crashes[_crash_signature(error)] += 1
            _save(target, tally, crash_dir, case, "crash", traceback.format_exc(), _crash_signature(error))
        took = time.perf_counter() - started
        if verdict is not None and took > target.hang_after_s and _slow_again(target, case):
            tally.hangs += 1
            _save(target, tally, crash_dir, case, "hang", f"took {took:.2f}s, and again when run once more")
        elif isinstance(verdict, Event):
            tally.events += 1
        elif isinstance(verdict, Rejection):
            tally.rejections[verdict.kind] += 1
        tally.slowest_s = max(tally.slowest_s, took)
        tally.cases += 1
        if tally.cases % every == 0:
            progress(tally, cases + len(seeds))

    test = given(target.strategy)(one)
    for seed in reversed(seeds):
        test = example(seed)(test)
    test = settings(
        max_examples=cases,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
    )(test)
    with target.environment():
        target.warm_up()
        tally.started_at = time.perf_counter()
        test()
        try:
            target.after()
        except Exception as error:
            tally.crashes[f"after campaign: {_crash_signature(error)}"] += 1
    tally.elapsed_s = time.perf_counter() - tally.started_at
    progress(tally, tally.cases)
    return tally


def _slow_again(target: Target, case: Any) -> bool:
    """A slow case is a hang only if it is slow twice: once alone can be a busy machine starving the process."""
    started = time.perf_counter()
    try:
        with _time_bound(target.hang_after_s * 5):
            target.run_case(case)
    except Hang:
        return True
    except Exception:
        pass  # it ended, which is all this asks: its verdict was counted on the first run
    return time.perf_counter() - started > target.hang_after_s


def _crash_signature(error: BaseException) -> str:
    if isinstance(error, Crash):
        return str(error)
    frames = traceback.extract_tb(error.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(error).__name__}{where}"


def _save(
    target: Target, tally: Tally, crash_dir: Path, case: Any, kind: str, detail: str = "", detail_kind: str = ""
) -> None:
    data = target.encode(case)
    digest = hashlib.sha256(data).hexdigest()[:16]
    folder = crash_dir / target.name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind}-{digest}"
    # A few cases of each signature reproduce it; the counts say the rest.
    if tally.saved_per_kind[detail_kind] < 3 and not path.exists():
        tally.saved_per_kind[detail_kind] += 1
        path.write_bytes(data)
        (folder / f"{kind}-{digest}.txt").write_text(detail)
        tally.saved.append(path)


@contextmanager
def _time_bound(seconds: float) -> Iterator[None]:
    """Interrupts a case stuck in Python code; a case stuck in C is still caught by the elapsed-time check.

    Whatever alarm was already set (pytest-timeout's, say) is put back afterwards, less the time spent here.
    """

    def expire(_signum: int, _frame: object) -> None:
        raise Hang(f"case ran past {seconds:.1f}s")

    started = time.monotonic()
    previous_handler = signal.signal(signal.SIGALRM, expire)
    previous_delay, previous_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay > 0:
            remaining = max(0.001, previous_delay - (time.monotonic() - started))
            signal.setitimer(signal.ITIMER_REAL, remaining, previous_interval)
