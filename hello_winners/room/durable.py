"""Append-only files of JSON lines that are on disk before anyone is told "done".

The room log (the retail events, in the kit's event-log format) and the journal (the room's own
records) are both an :class:`AppendLog`: one JSON object a line, a line's position (0-based) never
changes, and an append returns only after ``fsync``. A crash can leave only a torn last line, which
was never acknowledged: it is cut away when the file is opened again.

:class:`GroupCommit` lets the server's many requests share fsyncs: appends that arrive while one
write is on its way to the disk go together in the next, so a busy room pays one fsync per batch,
not per action, and each request still waits for its own line to be durable.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hello_winners.errors import HelloWinnersError


class LogFileError(HelloWinnersError):
    """A room file cannot be read back or written."""


class AppendLog:
    """One append-only JSONL file, with the byte offset of every line kept in memory for reads by position."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        created = not self.path.exists()
        self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        if created:
            _fsync_folder(self.path.parent)
        self._offsets = self._recover()
        self._lock = threading.Lock()

    def _recover(self) -> list[int]:
        """Start offsets of the complete lines (plus the end); a torn last line is cut off."""
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data):  # written but never fsynced and acknowledged: it never happened
            os.ftruncate(self._fd, end)
            os.fsync(self._fd)
        offsets, start = [], 0
        while start < end:
            offsets.append(start)
            start = data.index(b"\n", start) + 1
        offsets.append(end)
        return offsets

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def append(self, lines: list[bytes]) -> int:
        """Write ``lines`` (each one JSON object without a newline) and fsync; the position of the first."""
        if any(b"\n" in line for line in lines):
            raise LogFileError("a room log line may not hold a newline: encode it as compact JSON")
        with self._lock:
            first = len(self)
            blob = b"".join(line + b"\n" for line in lines)
            written = 0
            while written < len(blob):
                written += os.write(self._fd, blob[written:])
            os.fsync(self._fd)
            end = self._offsets[-1]
            for line in lines:
                end += len(line) + 1
                self._offsets.append(end)
            return first

    def read(self, start: int = 0, stop: int | None = None) -> list[bytes]:
        """The lines at positions ``start`` to ``stop`` (exclusive; default: the end), without newlines."""
        offsets = self._offsets
        stop = len(offsets) - 1 if stop is None else min(stop, len(offsets) - 1)
        if start >= stop:
            return []
        blob = os.pread(self._fd, offsets[stop] - offsets[start], offsets[start])
        return blob.split(b"\n")[: stop - start]

    def close(self) -> None:
        os.close(self._fd)


def _fsync_folder(folder: Path) -> None:
    """Make a new file's name durable too (its folder's entry)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``, durably: a crash leaves the old file or the new one, never half of one."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_folder(path.parent)


class GroupCommit:
    """Appends to an AppendLog from asyncio code, sharing fsyncs between the requests waiting at once.

    ``durable`` counts the lines known to be on disk; ``changed`` callbacks (which must be thread-safe,
    e.g. ``threading.Event.set``) are called after each write. After a failed write the log refuses
    every later append (``broken`` says why): the room must be restarted, which re-reads what is on disk.
    """

    def __init__(self, log: AppendLog) -> None:
        self.log = log
        # A thread of its own: a write never waits behind other work sent to threads (photos, the projector's
        # reads), and writes are one at a time anyway.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"write-{log.path.stem}")
        self.durable = len(log)
        self.reserved = len(log)
        self.broken: str | None = None
        self.changed: list[Callable[[], object]] = []
        self._pending: list[tuple[bytes, asyncio.Future]] = []
        self._writing = False

    def reserve(self, line: bytes) -> asyncio.Future:
        """Queue ``line``; the future resolves to its position once it is durable. Call from the event loop;
        lines are written in the order they are reserved, so folding them into memory in that order matches."""
        if self.broken:
            raise LogFileError(self.broken)
        future = asyncio.get_running_loop().create_future()
        self._pending.append((line, future))
        self.reserved += 1
        if not self._writing:
            self._writing = True
            asyncio.get_running_loop().create_task(self._write())
        return future

    async def append(self, line: bytes) -> int:
        """Append ``line`` and wait until it is durable; its position."""
        return await asyncio.shield(self.reserve(line))

    async def _write(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    first = await asyncio.get_running_loop().run_in_executor(
                        self._writer, self.log.append, [line for line, _ in batch])
                except (OSError, LogFileError) as error:
                    self.broken = f"the room could not write {self.log.path.name} ({error}): restart the room"
                    for _, future in batch + self._pending:
                        if not future.done():
                            future.set_exception(LogFileError(self.broken))
                    self._pending = []
                    return
                self.durable = first + len(batch)
                for index, (_, future) in enumerate(batch):
                    if not future.done():
                        future.set_result(first + index)
                for callback in self.changed:
                    callback()
        finally:
            self._writing = False
