"""Background processes that outlive the kernel or command that started them.

The embedded moto server and the local Lambda runtime both run detached, with their address recorded
in the state folder so that later kernels and commands find and reuse them. A record is never trusted
on its own: its process must be alive and answer its health check, else it is stale and replaced. A file
lock makes two kernels starting at once agree on one process.
"""

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import fcntl

from .errors import EmbeddedServerError

STATE_DIR_ENV = "HELLO_WINNERS_STATE_DIR"


def state_dir():
    """The state folder: $HELLO_WINNERS_STATE_DIR, else .hello-winners/ in the source checkout.

    Outside a source checkout (an installed package) it falls back to ~/.hello-winners.
    """
    configured = os.environ.get(STATE_DIR_ENV)
    if configured:
        return Path(configured)
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file():
        return checkout / ".hello-winners"
    return Path.home() / ".hello-winners"


@dataclasses.dataclass(frozen=True)
class Record:
    """A started process: its pid, the port it listens on, when it started, and what it was told."""

    pid: int
    port: int
    started: float
    details: dict = dataclasses.field(default_factory=dict)
    command: list = dataclasses.field(default_factory=list)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"


class Detached:
    """One kind of detached process, named ``name`` in the state folder.

    ``healthy(record)`` says whether a recorded process still answers as the one we started.
    """

    def __init__(self, name, healthy, start_timeout_s=60.0, patience_s=10.0):
        self.name = name
        self.healthy = healthy
        self.start_timeout_s = start_timeout_s
        self.patience_s = patience_s

    @property
    def log_path(self):
        return state_dir() / f"{self.name}.log"

    def find(self):
        """The live recorded process, or None. A stale record is removed, never returned."""
        with self._locked():
            return self._live()

    def ensure(self, command, port, details=None):
        """The live process, or a new one started with ``command`` listening on ``port``."""
        with self._locked():
            return self._live() or self._start(command, port, details or {})

    def stop(self):
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


def alive(pid):
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


def terminate(pid, grace_s=10.0):
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
