"""The embedded AWS: one moto server on 127.0.0.1 that outlives the kernel that started it.

Lessons are separate notebooks that share one stream and one set of tables, so the server runs detached
(see hello_winners.embedded.detached) and later kernels and commands find and reuse it.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from typing import Callable

from hello_winners.embedded import credentials, detached
from hello_winners.embedded.detached import Record
from hello_winners.targets.state import state_dir
from hello_winners.errors import AwsUnreachableError, ConfigError, EmbeddedServerError


HOST = "127.0.0.1"
PORT_ENV = "HELLO_WINNERS_PORT"
ENDPOINT_ENV = "HELLO_WINNERS_ENDPOINT"
REGION = "us-east-1"
# Cheap, moto-only, and the one route the strict server answers unsigned (see embedded.strict).
_HEALTH_PATH = "/moto-api/config"


class Server:
    """A running embedded server."""

    def __init__(self, record: Record) -> None:
        self.pid = record.pid
        self.port = record.port
        self.started = record.started
        self.endpoint = record.url

    def __eq__(self, other):
        return isinstance(other, Server) and (self.pid, self.port) == (other.pid, other.port)

    def __repr__(self):
        return f"Server(endpoint={self.endpoint!r}, pid={self.pid})"


def answers(endpoint: str, timeout: float = 2.0) -> bool:
    """True when a moto server answers at ``endpoint``."""
    try:
        with urllib.request.urlopen(endpoint + _HEALTH_PATH, timeout=timeout) as response:
            return 200 <= response.status < 300 and "lambda" in json.load(response)
    except (OSError, ValueError, urllib.error.URLError):
        return False


_SERVER = detached.Detached("moto-server", lambda record: answers(record.url, timeout=1.0),
                            "hello_winners.embedded.moto_server")


def find() -> Server | None:
    """The live recorded server, or None. A stale record is removed, never returned."""
    record = _SERVER.find()
    return Server(record) if record else None


def ensure_running(port: int | str | None = None, spawned: Callable[[], object] | None = None) -> Server:
    """Return the live server, starting one when none runs yet.

    ``port`` (or $HELLO_WINNERS_PORT) asks for a fixed port; by default a free one is picked. A server
    that stopped without ``stop`` took the deployed stage with it (moto keeps everything in memory): that
    raises EmbeddedServerError, rather than starting an empty one as if nothing had happened, until
    :func:`start` or :func:`stop` acknowledges it. ``spawned()`` is called once a new server's process
    exists, before it answers.
    """
    record = _SERVER.find()
    if record is not None:
        return Server(record)
    gone = _SERVER.gone()
    if gone is not None:
        raise EmbeddedServerError(gone_sentence(gone))
    return start(port, spawned)


def start(port: int | str | None = None, spawned: Callable[[], object] | None = None) -> Server:
    """Return the live server, or start a fresh one (also after one that stopped on its own)."""
    record = _SERVER.find()
    if record is None:
        chosen = _choose_port(port)
        credentials.keys(credentials.PARTICIPANT)  # made before the server starts: it registers them
        command = [sys.executable, "-m", "hello_winners.embedded.moto_server", "-H", HOST, "-p", str(chosen),
                   "--region", REGION]
        record = _SERVER.ensure(command, chosen, spawned=spawned)
    return Server(record)


def configured_endpoint() -> str | None:
    """$HELLO_WINNERS_ENDPOINT: a moto server run elsewhere, or None for the kit's own."""
    return os.environ.get(ENDPOINT_ENV) or None


def endpoint(spawned: Callable[[], object] | None = None) -> str:
    """The embedded AWS's URL: $HELLO_WINNERS_ENDPOINT (a moto server run elsewhere, which must answer),
    else the kit's own server, started when none is running (``spawned``: see :func:`ensure_running`)."""
    configured = configured_endpoint()
    if configured:
        if not answers(configured):
            raise AwsUnreachableError(
                f"nothing answers as a moto server at {configured}: start it, or unset {ENDPOINT_ENV} "
                "to let the kit run its own embedded server"
            )
        return configured
    return ensure_running(spawned=spawned).endpoint


def participant_environment(stage: str | None = None) -> dict[str, str]:
    """The variables boto3 and the AWS CLI read, set to the running server and the keys of the participant
    of ``stage`` (None: the default stage), who is made on the server first when needed."""
    from hello_winners.embedded import participants

    url = endpoint()
    running = find() if not configured_endpoint() else None
    keys = credentials.participant_keys(participants.ensure(url, REGION, stage, running.pid if running else None))
    return {"AWS_ENDPOINT_URL": url, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": keys.aws_access_key_id, "AWS_SECRET_ACCESS_KEY": keys.aws_secret_access_key}


def stop() -> Server | None:
    """Stop the recorded server. Returns the stopped server, or None when none was running."""
    record = _SERVER.stop()
    return Server(record) if record else None


def gone_sentence(record: Record) -> str:
    """What to tell the user when the server of ``record`` stopped on its own, and how to recover."""
    return (f"the embedded AWS at {record.url} has stopped, and everything deployed on it went with it "
            "(moto keeps it in memory): run `hello-winners server start` for a fresh one, then deploy again")


def status() -> dict:
    """A small dict describing the embedded server, for the CLI and lesson 0.

    When none runs, ``gone`` holds the sentence about one that stopped on its own, if one did.
    """
    server = find()
    if server is None:
        gone = _SERVER.gone()
        return {"running": False, "state_dir": str(state_dir()), "gone": gone_sentence(gone) if gone else None}
    return {
        "running": True,
        "answering": answers(server.endpoint),  # a busy server is still running: nothing stops it but stop()
        "endpoint": server.endpoint,
        "pid": server.pid,
        "uptime_s": round(time.time() - server.started, 1),
        "state_dir": str(state_dir()),
        "log": str(_SERVER.log_path),
    }


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
    if not 1024 <= number <= 65535:
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
