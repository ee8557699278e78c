"""Numbered lines put on a Kinesis stream in their order, each exactly once, whatever is killed when.

The room's pump (the room log onto the instructor's stream) and each participant's follower (the room
log, read over HTTP, onto their own stream) both hold a log whose positions never change and must put
it on a stream none twice, none skipped. A cursor file says how far the stream has it: ``position``
(every line before it is on the stream), the last sequence number seen on each shard, and ``pending``,
the end of the batch being put. Each batch writes ``pending`` (fsynced), puts the batch, then writes the
new position. A kill or a failed call in between leaves ``pending``, so the next start does not know
which of those records arrived: it reads the shards after their known sequence numbers and puts only
what is not there yet (Kinesis has no conditional put; reading back is the one way to be exactly once,
as lesson 5 teaches the consumer). A cursor alone would put the batch again.

Order: a batch holds at most one line per partition key (a product), so even when PutRecords takes
some records of a call and refuses others, a product's events reach its shard in log order.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hello_winners import events
from hello_winners.game import stream
from hello_winners.room.durable import write_atomically


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
    """How far the stream has the log; saved atomically. ``stream`` names the stream it is about (its ARN
    and creation time): a cursor of a stream deleted and created again says nothing of the new one."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        saved = json.loads(self.path.read_text()) if self.path.exists() else {}
        self.position: int = saved.get("position", 0)
        self.shards: dict[str, str] = saved.get("shards", {})
        self.pending: int | None = saved.get("pending")
        self.pending_at: float | None = saved.get("pending_at")
        self.stream: str | None = saved.get("stream")

    def save(self) -> None:
        data = {"position": self.position, "shards": self.shards, "pending": self.pending,
                "pending_at": self.pending_at, "stream": self.stream}
        write_atomically(self.path, json.dumps(data).encode())

    def restart(self, stream_identity: str) -> None:
        """Start over for a new stream: nothing of the log is on it."""
        self.position, self.shards, self.pending, self.pending_at, self.stream = 0, {}, None, None, stream_identity
        self.save()

    def saw(self, shard_id: str, sequence: str) -> None:
        """Remember the latest sequence number seen on a shard (they grow, as numbers)."""
        if shard_id not in self.shards or int(sequence) > int(self.shards[shard_id]):
            self.shards[shard_id] = sequence


class OnStream:
    """Puts a log's lines on ``stream_name`` in order, exactly once, keeping ``cursor`` (a path).

    ``hook(point)`` is called at each point where a kill would leave the stream and the cursor apart
    ("pending", "put", "done"): the tests kill there. ``settle_s``: before reading back a batch that a
    killed process was putting, wait until that long after it began, so that a put still on its way to
    Kinesis when the process died has landed (else it would land after the read, and count twice).
    """

    def __init__(self, kinesis: Any, stream_name: str, cursor: Path, *, sleep: Callable[[float], object] = time.sleep,
                 clock: Callable[[], float] = time.time, settle_s: float = 0.0,
                 hook: Callable[[str], None] = lambda point: None) -> None:
        self.kinesis = kinesis
        self.stream_name = stream_name
        self.cursor = Cursor(cursor)
        self.sleep = sleep
        self.clock = clock
        self.settle_s = settle_s
        self.hook = hook

    def finish(self, lines: list[bytes]) -> int:
        """Finish the pending batch, whose ``lines`` are those from ``cursor.position`` to ``cursor.pending``:
        put those the stream does not hold yet. How many were put."""
        if self.cursor.pending_at is not None:
            self.sleep(max(0.0, self.cursor.pending_at + self.settle_s - self.clock()))
        return self._finish(lines, self._already_on(lines))

    def put(self, lines: list[bytes]) -> int:
        """Put the first batch's worth of ``lines`` (those from ``cursor.position`` on); how many lines it took.
        Call :meth:`finish` first when ``cursor.pending`` is set."""
        assert self.cursor.pending is None, "finish the pending batch first"
        if not lines:
            return 0
        lines = lines[: next_batch(lines, [events.partition_key(events.decode(line)) for line in lines])]
        self.cursor.pending, self.cursor.pending_at = self.cursor.position + len(lines), self.clock()
        self.cursor.save()
        self.hook("pending")
        self._finish(lines, [False] * len(lines))
        return len(lines)

    def _already_on(self, lines: list[bytes]) -> list[bool]:
        """Which of a pending batch's lines the stream holds after the shards' known sequence numbers."""
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
        self.hook("put")
        self.cursor.position += len(lines)
        self.cursor.pending = self.cursor.pending_at = None
        self.cursor.save()
        self.hook("done")
        return len(missing)
