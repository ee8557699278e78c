"""The pump: the room log put on the instructor's stage stream, every event of a product in log order,
none twice, however often the stream was unreachable or the room server was killed meanwhile.

The room log is the truth; the stream follows it, through :class:`~hello_winners.room.onstream.OnStream`
(a cursor file beside the log, and a read-back of the stream after a batch whose outcome is unknown).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hello_winners.errors import HelloWinnersError
from hello_winners.game import stream
from hello_winners.room.durable import AppendLog
from hello_winners.room.onstream import OnStream

MAX_BACKOFF_S = 30.0


class Pump:
    """Puts the durable part of ``log`` on ``stream_name``; :meth:`run` keeps doing so until stopped.

    ``durable()`` says how many lines of the log are on disk; only those are put.
    """

    def __init__(self, kinesis: Any, stream_name: str, log: AppendLog, durable: Callable[[], int], cursor: Path,
                 sleep: Callable[[float], object] = time.sleep, clock: Callable[[], float] = time.time) -> None:
        self.log = log
        self.durable = durable
        self.onstream = OnStream(kinesis, stream_name, cursor, sleep=sleep, clock=clock)
        self.cursor = self.onstream.cursor
        self.clock = clock
        self.error: str | None = None
        self.failing_since: float | None = None
        self.wake = threading.Event()

    def status(self) -> dict:
        """Where the pump stands: events on the stream, events waiting, and why it waits, if it does."""
        return {"on_stream": self.cursor.position, "waiting": max(0, self.durable() - self.cursor.position),
                "error": self.error, "failing_since": self.failing_since}

    def step(self) -> int:
        """Put the next batch (after reconciling an unfinished one); how many events it put."""
        start, end = self.cursor.position, self.durable()
        if self.cursor.pending is not None:
            return self.onstream.finish(self.log.read(start, self.cursor.pending))
        if start >= end:
            return 0
        return self.onstream.put(self.log.read(start, min(end, start + stream.MAX_RECORDS)))

    def run(self, stop: threading.Event) -> None:
        """Pump until ``stop`` is set: at once when woken (``wake``), else every second; backing off while
        the stream is unreachable, and saying so in :meth:`status`."""
        backoff = 1.0
        while not stop.is_set():
            try:
                while self.step() or self.cursor.position < self.durable():
                    if stop.is_set():
                        return
                self.error, self.failing_since, backoff = None, None, 1.0
                self.wake.wait(1.0)
                self.wake.clear()
            except (HelloWinnersError, OSError) as error:
                self.error = str(error)
                self.failing_since = self.failing_since or self.clock()
                stop.wait(backoff)
                backoff = min(MAX_BACKOFF_S, backoff * 2)
