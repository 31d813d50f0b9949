"""Spreading array work over the machine's cores.

numpy's loops, scipy.special's functions and Arrow's CSV writer release the GIL, so slices
of one big array worked on by a few threads run on as many cores, without the copying and
start-up of processes. Small inputs stay on one thread: below a few hundred thousand
customers the threads would cost more than they save.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_SLICE = 200_000


def cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def slices(n: int, min_size: int | None = None, parts: int | None = None) -> list[slice]:
    """[0, n) cut into at most `parts` (default: the cores) contiguous slices of at least
    `min_size` (default MIN_SLICE) rows each (one slice when n is small)."""
    min_size = max(MIN_SLICE if min_size is None else min_size, 1)
    parts = min(parts or cores(), max(1, n // min_size))
    bounds = [n * i // parts for i in range(parts + 1)]
    return [slice(bounds[i], bounds[i + 1]) for i in range(parts)]


def map_slices(work: Callable[[slice], R], n: int, min_size: int | None = None) -> list[R]:
    """work(slice) for the slices of [0, n), on a thread each; results in order."""
    parts = slices(n, min_size)
    if len(parts) == 1:
        return [work(parts[0])]
    with ThreadPoolExecutor(len(parts)) as pool:
        return list(pool.map(work, parts))


def in_order(work: Callable[[T], R], items: Iterable[T], workers: int | None = None
             ) -> Iterator[R]:
    """work(item) for each item, `workers` at a time, yielded in the items' order; at most
    `workers` results wait at once, so that the memory held stays a few items' worth."""
    workers = workers or cores()
    if workers == 1:
        yield from map(work, items)
        return
    with ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) >= workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
