"""A function's warm workers, bounded as Lambda bounds a function's concurrency.

At most ``limit`` workers exist at once (the function's reserved concurrency; each is a process of
tens of MB). An invocation takes the most recently used idle worker, or starts one while fewer than
``limit`` run. With every one busy it waits: briefly for a caller that can be told to come back
(TooManyRequestsException, as Lambda throttles an invocation), or until one is free for a shard
poller (Lambda retries a throttled stream batch without counting it as a failure). A worker idle for
``idle_s`` is closed by :meth:`WorkerPool.reap`, as Lambda lets idle environments go.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Generic, Protocol, TypeVar

DEFAULT_LIMIT = 4
DEFAULT_IDLE_S = 300.0


class Worker(Protocol):
    """What the pool needs of a worker process."""

    def alive(self) -> bool: ...

    def close(self) -> None: ...


W = TypeVar("W", bound=Worker)


class TooManyRequestsException(Exception):
    """Every worker the function may run is busy, and the caller would not wait longer (Lambda's throttle)."""


class WorkerPool(Generic[W]):
    """Up to ``limit`` workers made by ``start``; ``clock`` tells idle time (injected by tests)."""

    def __init__(self, start: Callable[[], W], limit: int = DEFAULT_LIMIT, idle_s: float = DEFAULT_IDLE_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.idle_s = idle_s
        self._start = start
        self._clock = clock
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self._idle: list[tuple[W, float]] = []  # (worker, idle since), most recently used last
        self._busy = 0
        self._closed = False

    @property
    def size(self) -> int:
        """Worker processes that exist now, idle or busy."""
        with self._lock:
            return self._busy + len(self._idle)

    def take(self, wait_s: float | None = None) -> W:
        """A worker for one invocation, waiting ``wait_s`` at most for one to come free (None: as long as it takes).

        Raises TooManyRequestsException when none came free in time. Every worker taken is given back.
        """
        if not self._slots.acquire(timeout=wait_s):
            raise TooManyRequestsException(f"all {self.limit} workers of the function are busy: try again shortly")
        with self._lock:
            self._busy += 1
            while self._idle:
                worker, _ = self._idle.pop()
                if worker.alive():
                    return worker
                worker.close()  # it died while idle: collect it
        return self._started()

    def warm(self, count: int = 1) -> int:
        """Start workers ahead of invocations until ``count`` exist, within the limit; returns how many started.

        Lambda may pre-initialise an on-demand function's environments; here it spares the first batches
        or requests the handler's import. Each worker starts in its own process, so this returns at once.
        """
        started = 0
        while self._slots.acquire(blocking=False):
            with self._lock:
                needed = not self._closed and self._busy + len(self._idle) < min(count, self.limit)
                self._busy += needed
            if not needed:
                self._slots.release()
                break
            self.give_back(self._started())
            started += 1
        return started

    def give_back(self, worker: W, reusable: bool = True) -> None:
        """End an invocation: keep the worker warm, or close it when it is not ``reusable`` (it timed out)."""
        with self._lock:
            keep = reusable and not self._closed
            if keep:
                self._idle.append((worker, self._clock()))
        if not keep:
            worker.close()
        self._give_slot_back()

    def reap(self) -> int:
        """Close the workers idle for ``idle_s`` or longer; returns how many."""
        now = self._clock()
        with self._lock:
            expired = [worker for worker, since in self._idle if now - since >= self.idle_s]
            self._idle = [(worker, since) for worker, since in self._idle if now - since < self.idle_s]
        for worker in expired:
            worker.close()
        return len(expired)

    def close(self) -> None:
        """Close the idle workers now and busy ones when given back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker, _ in idle:
            worker.close()

    def _started(self) -> W:
        """A new worker for a slot already taken; the slot is given back when it fails to start."""
        try:
            return self._start()
        except BaseException:
            self._give_slot_back()
            raise

    def _give_slot_back(self):
        with self._lock:
            self._busy -= 1
        self._slots.release()
