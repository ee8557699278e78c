"""Background processes that outlive the kernel or command that started them.

The embedded moto server and the local Lambda runtime both run detached, with their address recorded
in the state folder so that later kernels and commands find and reuse them. A record is never trusted
on its own: its pid must still be the very process the kit started (the same start time, read with
psutil, and the kit's mark in its environment, naming this state folder and the record's command), and
that command must run the kit's own module; else the record is stale and replaced, and a process that
is not the kit's is never signalled. The command line the process shows is not trusted either way: a
server may retitle its process (granian does, when setproctitle is installed). A process of ours that answers slowly (busy, or
held up by a client) is still ours: no command but ``stop`` ends it.

Each process also carries its record in its own environment, so a lost or garbled record file never
orphans it: the kit finds it again (a psutil scan) instead of starting a second one beside it. A record
whose process has gone is kept as ``NAME.gone.json``, because what that process held in memory went
with it and the caller may have to say so. A file lock (filelock) makes two kernels starting at once
agree on one process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Callable, Sequence

import filelock
import psutil

from hello_winners.errors import EmbeddedServerError
from hello_winners.targets.state import own_state_dir, state_dir
from hello_winners.view.board import printable

# The environment variable through which a detached process carries its own record.
MARK_ENV = "HELLO_WINNERS_DETACHED"
# Tells setproctitle, when installed, to retitle a process without overwriting its environment, where
# the mark is (granian retitles its process with it): the title is then cut to the command line's length.
_KEEP_ENVIRONMENT = "SPT_NOENV"
# How far a recorded start time may be from psutil's (read to 1/100 s; records written before the kit
# used psutil hold the time Popen returned). A reused pid would also need the kit's mark.
_START_SLACK_S = 1.0
# A starting process is asked this often whether it answers yet: a refused connection costs next to
# nothing, and every caller of a cold start waits for the first answer after it is up.
_START_POLL_S = 0.02


@dataclasses.dataclass(frozen=True)
class Record:
    """A started process: its pid, the port it listens on, its start time (psutil's), and what it was told."""

    pid: int
    port: int
    started: float
    details: dict = dataclasses.field(default_factory=dict)
    command: list = dataclasses.field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Detached:
    """One kind of detached process, named ``name`` in the state folder, running ``python -m module``.

    ``healthy(record)`` says whether a process being started answers yet.
    """

    def __init__(self, name: str, healthy: Callable[[Record], bool], module: str, start_timeout_s: float = 60.0
                 ) -> None:
        self.name = name
        self.module = module  # what its command runs: python -m MODULE
        self.healthy = healthy
        self.start_timeout_s = start_timeout_s

    @property
    def log_path(self) -> Path:
        return state_dir() / f"{self.name}.log"

    def find(self) -> Record | None:
        """The live process's record, or None. A stale record is removed, never returned."""
        with self._locked():
            return self._live()

    def ensure(self, command: Sequence[str], port: int, details: dict | None = None,
               spawned: Callable[[], object] | None = None) -> Record:
        """The live process, or a new one started with ``command`` listening on ``port``.

        ``spawned()`` is called once a new process exists, before it answers.
        """
        with self._locked():
            return self._live() or self._start(command, port, details or {}, spawned)

    def stop(self) -> Record | None:
        """Stop the live process and forget any gone one; returns its record, or None when none was running."""
        with self._locked():
            record = self._live()
            if record is not None:
                terminate(self._identified(record))
            self._path.unlink(missing_ok=True)
            self._gone_path.unlink(missing_ok=True)
            return record

    def gone(self) -> Record | None:
        """The record of a process that ended without being stopped (it crashed or was killed), if any.

        It stays until the next start or stop, so that every later caller can tell the user.
        """
        return _read(self._gone_path)

    @property
    def _path(self):
        return state_dir() / f"{self.name}.json"

    @property
    def _gone_path(self):
        return state_dir() / f"{self.name}.gone.json"

    def _locked(self):
        return filelock.FileLock(own_state_dir() / f"{self.name}.lock")

    def _live(self):
        """The recorded process if it is ours (answering or not); else a stray of ours found again, or None."""
        record = _read(self._path)
        if record is not None:
            if self._identified(record) is not None:
                return record
            _write(self._gone_path, record)
        self._path.unlink(missing_ok=True)
        return self._adopt_stray()

    def _identified(self, record):
        """The record's process, only while it is the very one the kit started (see the module docstring)."""
        command = record.command if isinstance(record.command, list) else []
        if command[1:3] != ["-m", self.module]:
            return None
        process = _identified(record)
        try:
            mark = _mark(process) if process is not None else {}
        except (psutil.Error, ValueError):
            return None
        return process if (mark.get("name"), mark.get("state_dir")) == (self.name, str(state_dir())) else None

    def _adopt_stray(self):
        """Record again the first process of ours that no record names (answering or not); stop any other."""
        adopted = None
        for record, process in _strays(self.name):
            if adopted is None and record.command[1:3] == ["-m", self.module]:
                adopted = record
                _write(self._path, record)
                self._gone_path.unlink(missing_ok=True)
            else:
                terminate(process)
        return adopted

    def _start(self, command, port, details, spawned=None):
        mark = {"name": self.name, "state_dir": str(state_dir()), "port": port, "details": details,
                "command": list(command)}
        with open(self.log_path, "ab") as log:
            written_before = log.tell()
            started = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True,
                env={**os.environ, MARK_ENV: json.dumps(mark), _KEEP_ENVIRONMENT: "1"},
            )
        if spawned:
            spawned()
        process = psutil.Process(started.pid)
        record = Record(pid=started.pid, port=port, started=process.create_time(), details=details,
                        command=list(command))
        deadline = time.monotonic() + self.start_timeout_s
        while not self.healthy(record):
            if started.poll() is not None or time.monotonic() > deadline:
                terminate(process)
                said = _last_line(self.log_path, written_before)
                raise EmbeddedServerError(
                    f"the {self.name} did not start on port {port} "
                    f"({f'its log ends: {said}' if said else 'it wrote nothing'}): "
                    f"see {self.log_path} for the whole log, then try again"
                )
            time.sleep(_START_POLL_S)
        _write(self._path, record)
        self._gone_path.unlink(missing_ok=True)
        return record


def _last_line(path: Path, start: int, most: int = 300) -> str:
    """The last line the process wrote to its log (after ``start``), as a terminal may show it."""
    with open(path, "rb") as log:
        log.seek(max(start, log.seek(0, os.SEEK_END) - 4096))
        lines = log.read().decode(errors="replace").split("\n")
    said = next((line.strip() for line in reversed(lines) if line.strip()), "")
    return printable(said if len(said) <= most else said[:most] + "...")


def terminate(process: psutil.Process | None, grace_s: float = 10.0) -> None:
    """Stop a process the kit started, then whatever it started: TERM, and KILL after ``grace_s``.

    The process is a psutil one, identified by pid and start time, so a pid reused meanwhile is not hit.
    """
    if process is None:
        return
    try:
        family = [process, *process.children(recursive=True)]
        process.terminate()
    except psutil.Error:
        return
    _, lingering = psutil.wait_procs([process], timeout=grace_s)
    for member in lingering + family[1:]:
        with contextlib.suppress(psutil.Error):
            member.kill()
    psutil.wait_procs(family, timeout=grace_s)


def _identified(record):
    """The record's process, only while it is the very one the kit started: the same start time, and the
    kit's mark in its environment naming the record's command.

    Not its command line: a process may retitle itself (granian does when setproctitle is installed), and
    the mark is what the kit itself gave it when it started it.
    """
    try:
        process = psutil.Process(record.pid)
        ours = _mark(process).get("command") == record.command and \
            abs(process.create_time() - record.started) < _START_SLACK_S
    except (psutil.Error, TypeError, ValueError):  # gone, or a record with nonsense in it
        return None
    return process if ours and _running(process) else None


def _mark(process):
    """The kit's mark in a process's environment, as a dict ({} when it has none)."""
    mark = json.loads(process.environ().get(MARK_ENV) or "null")
    return mark if isinstance(mark, dict) else {}


def _running(process):
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _strays(name):
    """(record, process) of each running process of ours of kind ``name`` for this state folder, from its mark.

    A process the kit started carries its mark; so do the processes it starts in turn (granian's worker),
    which inherit its environment: those, whose parent carries the same mark, are their parent's, not strays.
    """
    folder = str(state_dir())
    found = {}
    for process in psutil.process_iter():
        try:
            mark = _mark(process)
            if (mark.get("name"), mark.get("state_dir")) != (name, folder) or not _running(process):
                continue
            found[process.pid] = (Record(process.pid, int(mark["port"]), process.create_time(), mark["details"],
                                         mark["command"]), process, mark)
        except (psutil.Error, ValueError, TypeError, KeyError):
            continue
    for record, process, mark in found.values():
        with contextlib.suppress(psutil.Error):
            parent = found.get(process.ppid())
            if parent is None or parent[2] != mark:
                yield record, process


def running_here() -> set[str]:
    """The names of the kit's processes (a server, the runtime) that run for this state folder, by their mark."""
    folder = str(state_dir())
    names = set()
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, ValueError):
            mark = _mark(process)
            if mark.get("state_dir") == folder and _running(process):
                names.add(str(mark.get("name")))
    return names


def _read(path):
    try:
        return Record(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _write(path, record):
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(dataclasses.asdict(record)))
    tmp.replace(path)
