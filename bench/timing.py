"""Timing one action over several rounds, the way every benchmark here reports it."""

from __future__ import annotations

import time
from collections.abc import Callable


def timed(action: Callable[[], object], rounds: int) -> list[float]:
    """Run action rounds times; return each run's wall-clock seconds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times
