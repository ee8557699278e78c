"""Background processes that outlive the kernel or command that started them.

The embedded moto server and the local Lambda runtime both run detached, with their address recorded
in the state folder so that later kernels and commands find and reuse them. A record is never trusted
on its own: its process must be alive and answer its health check, else it is stale and replaced. A file
lock makes two kernels starting at once agree on one process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable, Sequence

import fcntl

from hello_winners.errors import EmbeddedServerError
from hello_winners.state import state_dir

@dataclasses.dataclass(frozen=True)
class Record:
    """A started process: its pid, the port it listens on, when it started, and what it was told."""

    pid: int
    port: int
    started: float
    details: dict = dataclasses.field(default_factory=dict)
    command: list = dataclasses.field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Detached:
    """One kind of detached process, named ``name`` in the state folder.

    ``healthy(record)`` says whether a recorded process still answers as the one we started.
    """

    def __init__(self, name: str, healthy: Callable[[Record], bool], start_timeout_s: float = 60.0,
                 patience_s: float = 10.0) -> None:
        self.name = name
        self.healthy = healthy
        self.start_timeout_s = start_timeout_s
        self.patience_s = patience_s

    @property
    def log_path(self) -> Path:
        return state_dir() / f"{self.name}.log"

    def find(self) -> Record | None:
        """The live recorded process, or None. A stale record is removed, never returned."""
        with self._locked():
            return self._live()

    def ensure(self, command: Sequence[str], port: int, details: dict | None = None) -> Record:
        """The live process, or a new one started with ``command`` listening on ``port``."""
        with self._locked():
            return self._live() or self._start(command, port, details or {})

    def stop(self) -> Record | None:
        """Stop the recorded process; returns its record, or None when none was running."""
        with self._locked():
            record = self._live()
            if record is None:
                return None
            terminate(record.pid)
            self._path.unlink(missing_ok=True)
            return record

    @property
    def _path(self):
        return state_dir() / f"{self.name}.json"

    @contextlib.contextmanager
    def _locked(self):
        folder = state_dir()
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"{self.name}.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _live(self):
        try:
            record = Record(**json.loads(self._path.read_text()))
        except (OSError, ValueError, TypeError):
            self._path.unlink(missing_ok=True)
            return None
        if alive(record.pid):
            ours = _runs(record.pid, record.command)
            # Our own process may be busy and answer late: give it a while before calling it stale.
            deadline = time.monotonic() + (self.patience_s if ours else 0)
            while True:
                if self.healthy(record):
                    return record
                if time.monotonic() > deadline or not alive(record.pid):
                    break
                time.sleep(0.5)
            if ours:
                terminate(record.pid)  # ours but unresponsive: do not leave it behind
        self._path.unlink(missing_ok=True)
        return None

    def _start(self, command, port, details):
        with open(self.log_path, "ab") as log:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True
            )
        record = Record(pid=process.pid, port=port, started=time.time(), details=details, command=list(command))
        deadline = time.monotonic() + self.start_timeout_s
        while not self.healthy(record):
            if process.poll() is not None or time.monotonic() > deadline:
                terminate(process.pid)
                raise EmbeddedServerError(
                    f"the {self.name} did not start on port {port}: see {self.log_path} for why, then try again"
                )
            time.sleep(0.1)
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(record)))
        tmp.replace(self._path)
        return record


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) still accepts signal 0.
    with contextlib.suppress(OSError, IndexError):
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def _runs(pid, command):
    """Whether ``pid`` still runs ``command`` (and is not another process that got the same pid)."""
    try:
        running = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
    except OSError:
        return False
    return bool(command) and [part.decode(errors="replace") for part in running] == command


def terminate(pid: int, grace_s: float = 10.0) -> None:
    """Stop a process group started by this module: TERM, then KILL after ``grace_s``."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.05)
    if alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid):
    """Collect our own child's exit status so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
