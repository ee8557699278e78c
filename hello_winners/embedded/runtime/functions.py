"""Running a deployed function: its zip unpacked, its handler in worker processes, its timeout enforced.

A worker is a warm container: it imports the handler once and serves invocations one at a time. A
function keeps a pool of them (pool.py: at most its reserved concurrency, idle ones reaped) so that
several shards (and API requests) run at once, each in its own process with the function's environment
variables, as Lambda runs concurrent invocations.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import importlib.util
import io
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
import zipfile
from pathlib import Path
from typing import Any, Callable

import boto3

from hello_winners.embedded.runtime.bootstrap import SPARE
from hello_winners.embedded.runtime.pool import (DEFAULT_IDLE_S, DEFAULT_LIMIT, TooManyRequestsException,
                                                 WorkerPool)
from hello_winners.embedded.runtime.spares import COUNT, Spares
from hello_winners.errors import DeployError
from hello_winners.deploy.lambda_platform import RUNTIME, RUNTIME_PROVIDED
from hello_winners.targets.state import state_dir

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")


@dataclasses.dataclass(frozen=True)
class Config:
    """What the runtime needs of a function's configuration, as the Lambda API reports it."""

    name: str
    arn: str
    handler: str
    timeout_s: int
    memory_mb: int
    code_sha256: str
    environment: tuple  # sorted (name, value) pairs, hashable
    role: str = ""
    code_location: str = ""
    reserved_concurrency: int | None = None  # PutFunctionConcurrency's; None: the runtime's default

    @classmethod
    def from_api(cls, function: dict) -> Config:
        """From a GetFunction answer: the configuration, and where the code can be fetched."""
        configuration = function["Configuration"]
        variables = configuration.get("Environment", {}).get("Variables", {})
        return cls(
            name=configuration["FunctionName"],
            arn=configuration["FunctionArn"],
            handler=configuration["Handler"],
            timeout_s=int(configuration.get("Timeout", 3)),
            memory_mb=int(configuration.get("MemorySize", 128)),
            code_sha256=configuration["CodeSha256"],
            environment=tuple(sorted(variables.items())),
            role=configuration.get("Role", ""),
            code_location=function.get("Code", {}).get("Location", ""),
            reserved_concurrency=function.get("Concurrency", {}).get("ReservedConcurrentExecutions"),
        )


@dataclasses.dataclass
class Outcome:
    """An invocation's result: the function's answer, or Lambda's error object and whether it timed out."""

    result: object = None
    error: dict = None
    timed_out: bool = False
    seconds: float = 0.0


class Function:
    """One deployed function, ready to invoke; ``target_environment`` points boto3 at the embedded AWS.

    It runs at most its reserved concurrency of workers at once (else ``default_concurrency``), and
    closes those idle for ``idle_s``; ``clock`` tells idle time. A new worker is one of ``spares`` when
    one fits, else a fresh process.
    """

    def __init__(self, config: Config, target_environment: dict[str, str], default_concurrency: int = DEFAULT_LIMIT,
                 idle_s: float = DEFAULT_IDLE_S, clock: Callable[[], float] = time.monotonic,
                 spares: Spares | None = None) -> None:
        self.config = config
        self.task_root = _unpacked(config)
        self.environment = {
            **dict(config.environment),
            **target_environment,
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(config.timeout_s),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{RUNTIME}",
            "LAMBDA_TASK_ROOT": str(self.task_root),
            "_HANDLER": config.handler,
            **_base_environment(),
        }
        self.log_path = state_dir() / "runtime" / "logs" / f"{config.name}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.workers = WorkerPool(lambda: _Worker(self.task_root, self.environment, self.log_path, spares),
                                  config.reserved_concurrency or default_concurrency, idle_s, clock)
        self.invocations = 0
        self.errors = 0
        self.throttles = 0

    def client(self, service: str) -> Any:
        """A boto3 client that acts as this function: its role's credentials, the embedded endpoint."""
        variables = self.environment
        return boto3.client(service, endpoint_url=variables["AWS_ENDPOINT_URL"], region_name=variables["AWS_REGION"],
                            aws_access_key_id=variables["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=variables["AWS_SECRET_ACCESS_KEY"],
                            aws_session_token=variables["AWS_SESSION_TOKEN"])

    def invoke(self, event: Any, wait_s: float | None = None) -> Outcome:
        """Run the handler on ``event`` in an idle worker, or a new one while the concurrency allows.

        With every worker busy it waits ``wait_s`` at most, then raises TooManyRequestsException
        (None: it waits for a worker, as Lambda retries a throttled stream batch).
        """
        try:
            worker = self.workers.take(wait_s)
        except TooManyRequestsException:
            self.throttles += 1
            raise
        outcome = None
        try:
            outcome = worker.invoke(event, self.config)
        finally:
            self.workers.give_back(worker, reusable=outcome is not None and not outcome.timed_out)
        self.invocations += 1
        self.errors += outcome.error is not None
        return outcome

    def warm(self, count: int = 1) -> int:
        """Start ``count`` workers before invocations need them (see WorkerPool.warm); returns how many started."""
        return self.workers.warm(count)

    def reap(self) -> int:
        """Close the workers idle for too long; returns how many."""
        return self.workers.reap()

    def close(self) -> None:
        """Stop the idle workers; busy ones stop when their invocation ends."""
        self.workers.close()


def spare_workers(count: int = COUNT, log: Callable[[str], None] = print) -> Spares:
    """Spare workers for any function this process will run (see spares.py): none starts before a top-up."""
    return Spares(_spare, _base_environment(), count, log)


def _base_environment():
    """What every worker's environment holds besides its function's: all that a spare starts with."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "TZ": "UTC"}


def _spare():
    return _bootstrap(SPARE, _base_environment())


def _bootstrap(first: str, environment: dict[str, str], **popen: Any) -> subprocess.Popen:
    """A bootstrap.py process: a function's worker (``first``: its task root) or a spare (``SPARE``)."""
    return subprocess.Popen([sys.executable, "-S", str(BOOTSTRAP), first, str(_runtime_library())],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=environment, text=True, bufsize=1,
                            **popen)


class _Worker:
    def __init__(self, task_root, environment, log_path, spares=None):
        self.process = spares and spares.assign(task_root, environment, log_path)
        if self.process is None:
            with open(log_path, "ab") as log:
                self.process = _bootstrap(str(task_root), environment, stderr=log, cwd=task_root)
        self._answers = queue.SimpleQueue()
        threading.Thread(target=self._read, daemon=True).start()

    def alive(self):
        return self.process.poll() is None

    def invoke(self, event, config):
        started = time.time()
        request = {"event": event, "deadline": started + config.timeout_s,
                   "request_id": str(uuid.uuid4()), "function_arn": config.arn}
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            answer = self._answers.get(timeout=config.timeout_s)
        except queue.Empty:
            self.close()
            return Outcome(error={"errorType": "Sandbox.Timedout",
                                  "errorMessage": f"Task timed out after {config.timeout_s:.2f} seconds"},
                           timed_out=True, seconds=time.time() - started)
        except OSError:
            answer = None
        if answer is None:
            self.close()
            return Outcome(error={"errorType": "Runtime.ExitError",
                                  "errorMessage": "RequestId: the runtime exited without answering"},
                           seconds=time.time() - started)
        return Outcome(result=answer.get("result"), error=answer.get("error"), seconds=time.time() - started)

    def close(self):
        if self.alive():
            self.process.kill()
        self.process.wait()

    def _read(self):
        for line in self.process.stdout:
            self._answers.put(json.loads(line))
        self._answers.put(None)


def _unpacked(config):
    """The function's zip, fetched from its Code.Location and unpacked once per code version."""
    digest = base64.b64decode(config.code_sha256).hex()
    root = state_dir() / "runtime" / "tasks" / digest
    if root.is_dir():
        return root
    try:
        with urllib.request.urlopen(config.code_location, timeout=60) as response:
            code = response.read()
    except (OSError, ValueError) as error:
        raise DeployError(f"the code of {config.name} cannot be fetched from {config.code_location!r} ({error}): "
                          "deploy it again") from None
    if hashlib.sha256(code).hexdigest() != digest:
        raise DeployError(f"the code fetched for {config.name} is not the deployed version: deploy it again")
    tmp = root.with_name(root.name + f".{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    with zipfile.ZipFile(io.BytesIO(code)) as archive:
        archive.extractall(tmp)
    try:
        tmp.rename(root)
    except OSError:  # another process unpacked it first
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def _runtime_library():
    """A folder holding only what Lambda's python3.12 runtime provides (boto3 and its dependencies)."""
    folder = state_dir() / "runtime" / "python-runtime"
    folder.mkdir(parents=True, exist_ok=True)
    for name in sorted(RUNTIME_PROVIDED):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None and not spec.submodule_search_locations:
            continue
        source = Path(next(iter(spec.submodule_search_locations))) if spec.submodule_search_locations else Path(spec.origin)
        link = folder / source.name
        if not link.exists():
            try:
                link.symlink_to(source)
            except FileExistsError:
                pass
    return folder
