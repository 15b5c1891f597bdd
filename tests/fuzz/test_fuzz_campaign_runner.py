"""The campaign runner itself: every case ends counted, crashes and hangs are caught, saved and fail the run."""

from __future__ import annotations

import time
from pathlib import Path

from hypothesis import strategies as st

from fuzz.campaign import Event, Rejection, Tally, Target, Verdict, run_campaign
from fuzz.report import summary_table


def _quiet(_tally: Tally, _total: int) -> None:
    pass


def test_events_and_rejections_are_counted_by_kind(tmp_path: Path) -> None:
    def run_case(value: int) -> Verdict:
        return Event("even") if value % 2 == 0 else Rejection("odd")

    tally = run_campaign(Target("numbers", st.integers(), run_case), 200, tmp_path, _quiet, 50)

    assert tally.cases == 200
    assert tally.events + tally.rejections["odd"] == 200
    assert tally.rejections["odd"] > 0 and tally.events > 0
    assert not tally.failed
    assert "numbers" in summary_table([tally])


def test_an_undocumented_exception_is_a_crash_and_its_case_is_saved(tmp_path: Path) -> None:
    def run_case(value: bytes) -> Verdict:
        if value.startswith(b"\x00"):
            raise KeyError("boom")
        return Event("ok")

    target = Target("bytes", st.binary(min_size=1, max_size=4), run_case)

    tally = run_campaign(target, 300, tmp_path, _quiet, 1000)

    assert tally.failed
    assert sum(tally.crashes.values()) > 0
    assert all(signature.startswith("KeyError at test_fuzz_campaign_runner.py") for signature in tally.crashes)
    assert tally.saved and all(path.read_bytes().startswith(b"\x00") for path in tally.saved)
    assert "CRASH" in summary_table([tally])


def test_a_case_stuck_in_python_is_interrupted_and_counted_as_a_hang(tmp_path: Path) -> None:
    def run_case(value: int) -> Verdict:
        while value == 7:
            time.sleep(0.01)
        return Event("ok")

    target = Target("stuck", st.just(7), run_case, hang_after_s=0.05)

    tally = run_campaign(target, 1, tmp_path, _quiet, 1000)

    assert tally.hangs == 1 and tally.failed


def test_corpus_files_run_as_explicit_examples(tmp_path: Path, monkeypatch) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "seeded").mkdir(parents=True)
    (corpus / "seeded" / "magic").write_bytes(b"magic seed")
    monkeypatch.setattr("fuzz.campaign.CORPUS_DIR", corpus)
    seen: list[bytes] = []

    def run_case(value: bytes) -> Verdict:
        seen.append(value)
        return Event("ok")

    run_campaign(Target("seeded", st.binary(max_size=2), run_case), 5, tmp_path, _quiet, 1000)

    assert seen[0] == b"magic seed"


def test_a_tally_survives_the_trip_from_a_child_process(tmp_path: Path) -> None:
    tally = Tally("numbers", cases=3, events=1, hangs=1, slowest_s=0.5, elapsed_s=1.0, saved=[tmp_path / "case"])
    tally.rejections["odd"] = 1
    tally.crashes["KeyError at x.py:1"] = 1

    assert Tally.from_json(tally.to_json()).to_json() == tally.to_json()


def test_a_case_slow_only_once_is_a_busy_machine_and_slow_twice_is_a_hang(tmp_path: Path) -> None:
    calls: list[int] = []

    def slow_first_time(value: int) -> Verdict:
        calls.append(value)
        if len(calls) == 1:
            time.sleep(0.2)
        return Event("ok")

    def always_slow(value: int) -> Verdict:
        time.sleep(0.2)
        return Event("ok")

    once = run_campaign(Target("once", st.just(1), slow_first_time, hang_after_s=0.1), 1, tmp_path, _quiet, 1000)
    twice = run_campaign(Target("twice", st.just(1), always_slow, hang_after_s=0.1), 1, tmp_path, _quiet, 1000)

    assert (once.hangs, once.events) == (0, 1)
    assert (twice.hangs, twice.events) == (1, 0)
