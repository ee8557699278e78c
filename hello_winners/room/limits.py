"""Rate limits: token buckets per key (an address, a participant), with an injectable clock.

A bucket holds up to ``burst`` tokens and gains ``rate`` a second; each request takes one. An empty
bucket refuses with a 429 whose ``Retry-After`` says when the next token comes. Memory stays bounded
under a flood of new keys: full buckets (a key that has been quiet long enough) are forgotten first.

>>> clock = iter([0.0, 0.0, 0.0, 1.0]).__next__
>>> limit = Limit("actions", burst=2, rate=1.0, clock=clock)
>>> limit.take("ana"); limit.take("ana")
>>> limit.take("ana")
Traceback (most recent call last):
...
hello_winners.room.refusal.Refused: Too many actions too fast: wait 1 s, then try again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from hello_winners.room.refusal import Refused

MAX_KEYS = 100_000


class Limit:
    """One kind of limit, ``burst`` requests at once and ``rate`` a second after that, per key."""

    def __init__(self, what: str, burst: float, rate: float, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = MAX_KEYS) -> None:
        self.what = what
        self.burst = burst
        self.rate = rate
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)

    def take(self, key: str) -> None:
        """Take one token of ``key``'s bucket, or raise Refused (429 with Retry-After)."""
        now = self.clock()
        tokens, when = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - when) * self.rate)
        if tokens < 1:
            wait = max(1, math.ceil((1 - tokens) / self.rate))
            self._buckets[key] = (tokens, now)
            raise Refused(429, f"Too many {self.what} too fast: wait {wait} s, then try again.",
                          {"Retry-After": str(wait)})
        if key not in self._buckets and len(self._buckets) >= self.max_keys:
            self._forget_full(now)
        self._buckets[key] = (tokens - 1, now)

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that have refilled (their keys behave as new ones); else the oldest half."""
        full = [key for key, (tokens, when) in self._buckets.items()
                if tokens + (now - when) * self.rate >= self.burst]
        if len(full) < self.max_keys // 2:
            by_age = sorted(self._buckets, key=lambda key: self._buckets[key][1])
            full = by_age[: self.max_keys // 2]
        for key in full:
            del self._buckets[key]
