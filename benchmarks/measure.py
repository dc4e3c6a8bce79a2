"""What every measure shares: the result of a ratio, timing that resists a busy machine, progress in French.

A ratio compares a subject with a baseline measured in the same run. The machine is shared (other processes come and
go), so the two are measured in alternating rounds and each keeps its best round: a disturbance that slows one round
does not decide the ratio.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass
class Result:
    name: str
    description_fr: str
    #: What was measured on: rows in the database, backend, workers... (French, shown in the table).
    volume_fr: str
    subject_seconds: float
    baseline_seconds: float
    iterations: int
    #: The issue's target for the ratio (at most), when it sets one.
    target: float | None = None
    #: What subject and baseline are measured in: seconds, or « Mo » for a peak memory.
    unit: str = "s"

    @property
    def ratio(self) -> float:
        return self.subject_seconds / self.baseline_seconds

    @property
    def meets_target(self) -> bool | None:
        return None if self.target is None else self.ratio <= self.target


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def best_of(repeats: int, func: Callable[[], object]) -> float:
    """The fastest of several runs: the least disturbed by the rest of the machine."""
    return min(timed(func) for _ in range(repeats))


def paired(rounds: int, subject: Callable[[], object], baseline: Callable[[], object]) -> tuple[float, float]:
    """Subject and baseline in alternating rounds; the best round of each (same work per round)."""
    subjects: list[float] = []
    baselines: list[float] = []
    for _ in range(rounds):
        subjects.append(timed(subject))
        baselines.append(timed(baseline))
    return min(subjects), min(baselines)


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The sample below which ``fraction`` of them lie (nearest rank)."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no sample")
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def thousands(value: int) -> str:
    """French grouping: 30 000."""
    return f"{value:,}".replace(",", "\u202f")
