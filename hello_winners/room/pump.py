"""The pump: the room log put on the instructor's stage stream, every event of a product in log order,
none twice, however often the stream was unreachable or the room server was killed meanwhile.

The room log is the truth; the stream follows it. A cursor file says how far the stream has it:
``position`` (every event before it is on the stream), the last sequence number the pump saw on each
shard, and ``pending``, the end of the batch being put. Each step writes ``pending`` (fsynced), puts
the batch, then writes the new position. A crash or a failed call in between leaves ``pending``, so
the next step does not know which of those records arrived: it reads the shards after their known
sequence numbers and puts only what is not there yet (Kinesis has no conditional put; reading back
is the one way to be exactly once, as the consumer's lessons teach).

Order: a batch holds at most one event per product (the partition key), so even when PutRecords
takes some records of a call and refuses others, a product's events reach its shard in log order.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hello_winners import events
from hello_winners.errors import HelloWinnersError
from hello_winners.game import stream
from hello_winners.room.durable import AppendLog, write_atomically

MAX_BACKOFF_S = 30.0


def next_batch(lines: list[bytes], keys: list[str]) -> int:
    """How many of ``lines`` (with their partition ``keys``), from the first, make the next PutRecords
    batch: within the call's limits, and at most one line per key."""
    seen, size = set(), 0
    for count, (line, key) in enumerate(zip(lines, keys)):
        record_size = len(line) + len(key.encode("utf-8"))
        if key in seen or count == stream.MAX_RECORDS or size + record_size > stream.MAX_BYTES:
            return count
        seen.add(key)
        size += record_size
    return len(lines)


class Cursor:
    """How far the stream has the room log; saved atomically beside it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        saved = json.loads(self.path.read_text()) if self.path.exists() else {}
        self.position: int = saved.get("position", 0)
        self.shards: dict[str, str] = saved.get("shards", {})
        self.pending: int | None = saved.get("pending")

    def save(self) -> None:
        data = {"position": self.position, "shards": self.shards, "pending": self.pending}
        write_atomically(self.path, json.dumps(data).encode())

    def saw(self, shard_id: str, sequence: str) -> None:
        """Remember the latest sequence number seen on a shard (they grow, as numbers)."""
        if shard_id not in self.shards or int(sequence) > int(self.shards[shard_id]):
            self.shards[shard_id] = sequence


class Pump:
    """Puts the durable part of ``log`` on ``stream_name``; :meth:`run` keeps doing so until stopped.

    ``durable()`` says how many lines of the log are on disk; only those are put.
    """

    def __init__(self, kinesis: Any, stream_name: str, log: AppendLog, durable: Callable[[], int], cursor: Path,
                 sleep: Callable[[float], object] = time.sleep, clock: Callable[[], float] = time.time) -> None:
        self.kinesis = kinesis
        self.stream_name = stream_name
        self.log = log
        self.durable = durable
        self.cursor = Cursor(cursor)
        self.sleep = sleep
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
            lines = self.log.read(start, self.cursor.pending)
            return self._finish(lines, self._already_on(lines))
        if start >= end:
            return 0
        lines = self.log.read(start, min(end, start + stream.MAX_RECORDS))
        lines = lines[: next_batch(lines, [events.partition_key(events.decode(line)) for line in lines])]
        self.cursor.pending = start + len(lines)
        self.cursor.save()
        return self._finish(lines, [False] * len(lines))

    def _already_on(self, lines: list[bytes]) -> list[bool]:
        """Which of an unfinished batch's lines the stream holds after the shards' known sequence numbers."""
        found: Counter[bytes] = Counter()
        for shard_id, sequence, data in stream.read_records(self.kinesis, self.stream_name, after=self.cursor.shards,
                                                            sleep=self.sleep):
            found[data] += 1
            self.cursor.saw(shard_id, sequence)
        present = []
        for line in lines:
            present.append(found[line] > 0)
            found[line] -= 1
        return present

    def _finish(self, lines: list[bytes], present: list[bool]) -> int:
        """Put the lines not present yet, then move the cursor past the whole batch."""
        missing = [line for line, there in zip(lines, present) if not there]
        if missing:
            batch = [{"Data": line, "PartitionKey": events.partition_key(events.decode(line))} for line in missing]
            for result in stream.put_batch(self.kinesis, self.stream_name, batch, sleep=self.sleep):
                self.cursor.saw(result["ShardId"], result["SequenceNumber"])
        self.cursor.position += len(lines)
        self.cursor.pending = None
        self.cursor.save()
        return len(missing)

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
