"""The local Lambda runtime of the embedded target: what runs deployed functions when moto cannot.

moto stores functions, mappings and HTTP APIs but cannot execute functions without Docker. The runtime
(a detached process, see service.py) reads them back from the moto APIs and runs them from their zips,
as Lambda would. This module starts, finds, drains and stops it. Only the embedded target uses it: on
real AWS the Lambda service does all of this.
"""

from __future__ import annotations

import json
import socket
import sys
import time
import urllib.error
import urllib.request
from typing import Callable

from hello_winners.embedded import credentials, detached, server
from hello_winners.embedded.runtime.service import SERVICE
from hello_winners.errors import DeployError
from hello_winners.targets.state import state_dir


def _healthy(record):
    return _get(record.url + "/status", timeout=1.0).get("service") == SERVICE


_RUNTIME = detached.Detached("lambda-runtime", _healthy, "hello_winners.embedded.runtime")
DRAIN_POLL_S = 0.05  # a local status read is cheap; play's last batch should not wait for the next look


def ensure_running() -> detached.Record:
    """The runtime's record, started (or restarted for a new embedded server) when needed."""
    endpoint = server.endpoint()
    record = _RUNTIME.find()
    if record is not None and record.details.get("endpoint") != endpoint:
        _RUNTIME.stop()
        record = None
    if record is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        command = [sys.executable, "-m", "hello_winners.embedded.runtime", "--port", str(port), "--endpoint", endpoint]
        record = _RUNTIME.ensure(command, port, {"endpoint": endpoint})
    return record


def sync() -> dict:
    """Make the runtime read the deployed configuration now; returns its status."""
    return _post(ensure_running().url + "/sync")


def nudge() -> bool:
    """Make a running runtime read the deployed configuration now, as :func:`sync` does, but start none.

    Returns whether one was running to ask.
    """
    record = _RUNTIME.find()
    if record is None:
        return False
    _post(record.url + "/sync")
    return True


def status() -> dict | None:
    """The runtime's status, or None when it is not running."""
    record = _RUNTIME.find()
    return _get(record.url + "/status") if record else None


def api_url(api_id: str) -> str:
    """The local URL that serves the HTTP API ``api_id``."""
    api = sync()["apis"].get(api_id)
    if api is None:
        raise DeployError(f"the local runtime serves no HTTP API {api_id}: deploy the stage again")
    return api["url"]


def drain(timeout_s: float = 300, report: Callable[[dict], None] | None = None, stream: str | None = None) -> dict:
    """Wait until every mapped shard (of ``stream`` alone, when given) is caught up and no batch is in flight;
    returns the status, its shards those waited for.

    Only records put before the call are waited for. ``report(status)`` hears progress. Other stages' shards
    on the same server are not waited for when a ``stream`` is given, nor does their error stop the wait.
    """
    started = time.time()
    url = ensure_running().url  # asked directly from here on: finding the runtime costs a lock and a process check
    state = _of_stream(_post(url + "/sync"), stream)
    if not state["shards"]:
        raise DeployError(f"no event source mapping is deployed{f' on {stream}' if stream else ''}, so nothing "
                          "consumes the stream: deploy first")
    while True:
        shards = state["shards"]
        broken = [s for s in shards if s["error"]]
        if broken:
            raise DeployError(f"the local runtime stopped polling {broken[0]['shard']}: {broken[0]['error']}")
        if shards and all(s["caught_up_at"] >= started and not s["in_flight"] for s in shards):
            return state
        if time.time() - started > timeout_s:
            raise DeployError(
                f"the consumer has not caught up after {timeout_s} s: see `hello-winners status` and the "
                f"function logs in {state_dir() / 'runtime' / 'logs'}"
            )
        if report:
            report(state)
        time.sleep(DRAIN_POLL_S)
        state = _get(url + "/status")
        if state.get("service") != SERVICE:  # the runtime went away: find it again, or start a new one
            url = ensure_running().url
            state = _post(url + "/sync")
        state = _of_stream(state, stream)


def _of_stream(state, stream):
    """The status with only the shards of ``stream`` (all of them when it is None)."""
    if stream is None:
        return state
    return {**state, "shards": [shard for shard in state.get("shards", []) if shard.get("stream") == stream]}


def stop() -> bool:
    """Stop the runtime; returns whether one was running."""
    return _RUNTIME.stop() is not None


def _get(url, timeout=10.0):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {credentials.control_token()}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)
    except (OSError, ValueError, urllib.error.URLError):
        return {}


def _post(url, timeout=120.0):
    request = urllib.request.Request(url, data=b"", method="POST",
                                     headers={"Authorization": f"Bearer {credentials.control_token()}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        said = _message(error)
        raise DeployError(f"the local Lambda runtime could not do it: {said}" if said else
                          f"the local Lambda runtime answered {error.code}: see {_RUNTIME.log_path}") from None
    except (OSError, ValueError, urllib.error.URLError) as error:
        raise DeployError(f"the local Lambda runtime did not answer ({error}): see {_RUNTIME.log_path}") from None


def _message(error):
    """The ``message`` of a JSON error answer, or None."""
    try:
        said = json.load(error).get("message")
    except (OSError, ValueError, AttributeError):
        return None
    return said if isinstance(said, str) else None
