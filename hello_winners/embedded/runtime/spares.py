"""Workers started before any function needs them: a Python that has already imported the runtime's boto3.

Lambda keeps execution environments ready ahead of demand. Here a new function's worker spends 0.2 s
importing boto3 (0.5 s and more while the embedded server drains a stream and other workers start), and
that import is on the path of the function's first batch. A spare is a worker process (bootstrap.py)
that has done it and waits to be told which function it is: its task root, environment and log.

A spare goes only to a function that would run exactly as in a fresh worker: no copy of a runtime
package in its zip (it must import its own, not the one the spare loaded), and no variable that Python
reads as it starts (``PYTHON*``, the locale's). boto3 reads no variable when imported. Any other
function starts a fresh worker, as it would with no spare left.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
from pathlib import Path
from typing import Callable

from hello_winners.deploy.lambda_platform import RUNTIME_PROVIDED

# A stream's two shards and an HTTP API: what a stage's deploy needs at once. Idle, each is a process of
# about 35 MB that uses no CPU.
COUNT = 3


def startup_variables(environment: dict[str, str]) -> dict[str, str]:
    """The variables of ``environment`` that Python reads as it starts, before any code runs."""
    return {name: value for name, value in environment.items()
            if name.startswith(("PYTHON", "LC_")) or name in ("LANG", "LANGUAGE")}


def bundles_a_runtime_package(task_root: Path) -> bool:
    """Whether the function's zip holds its own copy of a package the runtime provides (boto3, ...)."""
    return any(entry.name.partition(".")[0] in RUNTIME_PROVIDED for entry in task_root.iterdir())


class Spares:
    """Up to ``count`` spare workers made by ``start`` (started with ``environment``), handed out by :meth:`assign`.

    The runtime tops them up in a periodic sync once every shard is caught up, so that starting
    replacements does not take CPU from the batches that just took the spares.
    """

    def __init__(self, start: Callable[[], subprocess.Popen], environment: dict[str, str], count: int = COUNT,
                 log: Callable[[str], None] = print) -> None:
        self.count = count
        self._start = start
        self._environment = environment
        self._log = log
        self._lock = threading.Lock()
        self._ready: list[subprocess.Popen] = []  # oldest first: the likeliest to be done importing

    @property
    def ready(self) -> int:
        with self._lock:
            return len(self._ready)

    def assign(self, task_root: Path, environment: dict[str, str], log_path: Path) -> subprocess.Popen | None:
        """A spare made the worker of the function, or None when none is left or the function needs a fresh one."""
        if startup_variables(environment) != startup_variables(self._environment) or bundles_a_runtime_package(task_root):
            return None
        assignment = json.dumps({"task_root": str(task_root), "environment": environment, "log": str(log_path)})
        while True:
            with self._lock:
                if not self._ready:
                    return None
                process = self._ready.pop(0)
            try:
                process.stdin.write(assignment + "\n")
                process.stdin.flush()
                return process
            except OSError:  # it exited meanwhile: the next one
                _end(process)

    def top_up(self) -> int:
        """Start spares until ``count`` are ready; returns how many started.

        A spare that exited before it was needed cannot import the runtime (its error is in this
        process's log): spares then stop, and every function starts its own workers.
        """
        with self._lock:
            exited = [process for process in self._ready if process.poll() is not None]
            self._ready = [process for process in self._ready if process.poll() is None]
            if exited:
                self.count = 0
            missing = max(0, self.count - len(self._ready))
            self._ready += [self._start() for _ in range(missing)]
        if exited:
            self._log(f"spare workers stopped: one exited with code {exited[0].returncode} before it was needed; "
                      "new functions start their own workers")
        return missing

    def close(self) -> None:
        """End the spares; a worker already assigned is its function's to close."""
        with self._lock:
            self.count = 0
            ready, self._ready = self._ready, []
        for process in ready:
            _end(process)


def _end(process: subprocess.Popen) -> None:
    process.kill()
    process.wait()
    with contextlib.suppress(OSError):  # an assignment it never read: the pipe is broken, nothing to flush to
        process.stdin.close()
