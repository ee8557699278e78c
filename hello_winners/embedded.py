"""The embedded AWS: one moto server on 127.0.0.1 that outlives the kernel that started it.

Lessons are separate notebooks that share one stream and one set of tables, so the server runs detached
and its address is recorded in the state folder. Later kernels and commands find it there and reuse it.
A record is never trusted on its own: the process must be alive and answer as a moto server on the
recorded port, else the record is stale and a new server replaces it. A file lock makes two kernels
starting at once agree on one server.
"""

import contextlib
import dataclasses
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from .errors import ConfigError, EmbeddedServerError

HOST = "127.0.0.1"
STATE_DIR_ENV = "HELLO_WINNERS_STATE_DIR"
PORT_ENV = "HELLO_WINNERS_PORT"
_RECORD = "server.json"
_LOCK = "server.lock"
_LOG = "server.log"
_HEALTH_PATH = "/moto-api/data.json"
_START_TIMEOUT_S = 60.0


@dataclasses.dataclass(frozen=True)
class Server:
    """A running embedded server, as recorded in the state folder."""

    pid: int
    port: int
    started: float

    @property
    def endpoint(self):
        return f"http://{HOST}:{self.port}"


def state_dir():
    """Where the server record lives: $HELLO_WINNERS_STATE_DIR, else .hello-winners/ in the checkout.

    Outside a source checkout (an installed package) it falls back to ~/.hello-winners.
    """
    configured = os.environ.get(STATE_DIR_ENV)
    if configured:
        return Path(configured)
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file():
        return checkout / ".hello-winners"
    return Path.home() / ".hello-winners"


def find():
    """The live recorded server, or None. A stale record is removed, never returned."""
    with _locked():
        return _live_record()


def ensure_running(port=None):
    """Return the live server, starting one when none is recorded or the record is stale.

    ``port`` (or $HELLO_WINNERS_PORT) asks for a fixed port; by default a free one is picked.
    """
    with _locked():
        server = _live_record()
        if server is not None:
            return server
        return _start(_choose_port(port))


def stop():
    """Stop the recorded server. Returns the stopped server, or None when none was running."""
    with _locked():
        server = _live_record()
        if server is None:
            return None
        _terminate(server.pid)
        _record_path().unlink(missing_ok=True)
        return server


def status():
    """A small dict describing the embedded server, for the CLI and lesson 0."""
    server = find()
    if server is None:
        return {"running": False, "state_dir": str(state_dir())}
    return {
        "running": True,
        "endpoint": server.endpoint,
        "pid": server.pid,
        "uptime_s": round(time.time() - server.started, 1),
        "state_dir": str(state_dir()),
        "log": str(state_dir() / _LOG),
    }


def answers(endpoint, timeout=2.0):
    """True when a moto server answers at ``endpoint``."""
    try:
        with urllib.request.urlopen(endpoint + _HEALTH_PATH, timeout=timeout) as response:
            return response.status == 200 and isinstance(json.load(response), dict)
    except (OSError, ValueError, urllib.error.URLError):
        return False


def _record_path():
    return state_dir() / _RECORD


@contextlib.contextmanager
def _locked():
    folder = state_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / _LOCK, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _live_record():
    path = _record_path()
    try:
        server = Server(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        path.unlink(missing_ok=True)
        return None
    if _alive(server.pid) and answers(server.endpoint):
        return server
    path.unlink(missing_ok=True)
    return None


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) still accepts signal 0.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z":
            return False
    return True


def _choose_port(port):
    wanted = port or os.environ.get(PORT_ENV)
    if not wanted:
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            return probe.getsockname()[1]
    try:
        number = int(wanted)
    except ValueError:
        number = 0
    if not 1 <= number <= 65535:
        raise ConfigError(f"the port {wanted!r} is not a port number: set {PORT_ENV} to 1024-65535 or unset it")
    with socket.socket() as probe:
        try:
            probe.bind((HOST, number))
        except OSError:
            raise ConfigError(
                f"port {number} on {HOST} is in use by another program: set {PORT_ENV} to a free port, "
                "or unset it to let the kit pick one"
            ) from None
    return number


def _start(port):
    folder = state_dir()
    log = open(folder / _LOG, "ab")
    command = [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]
    with log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True
        )
    server = Server(pid=process.pid, port=port, started=time.time())
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not answers(server.endpoint, timeout=1.0):
        if process.poll() is not None or time.monotonic() > deadline:
            _terminate(process.pid)
            raise EmbeddedServerError(
                f"the embedded AWS (moto server) did not start on port {port}: see {folder / _LOG}, "
                "then run `hello-winners server start` again"
            )
        time.sleep(0.1)
    tmp = folder / (_RECORD + ".tmp")
    tmp.write_text(json.dumps(dataclasses.asdict(server)))
    tmp.replace(_record_path())
    return server


def _terminate(pid, grace_s=10.0):
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while _alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.05)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid):
    """Collect our own child's exit status so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
