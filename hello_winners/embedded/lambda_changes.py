"""The embedded server tells the local runtime at once when what the runtime runs may have changed.

On AWS the Lambda service that stores a function or an event source mapping also runs it, so a change
takes effect at once. Here moto stores them and the local runtime reads them back, on its own only
every 3 to 30 s (runtime/pacing.py): a mapping created by hand in a notebook would sit that long before
its first batch, and a deploy's new functions would start their workers only when the deploy asks. So
after each successful write to the Lambda or API Gateway API (an invocation changes nothing) the
server asks a running runtime to read again now. The asking is done on one thread of its own, so it
never delays the answer to the write, and a burst of writes (a deploy) makes a few reads, not one each.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable

from hello_winners.embedded.strict import signing_name

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SERVICES = frozenset({"lambda", "apigateway"})  # as requests are signed for them (API Gateway v2 included)


def changes_what_runs(method: str, path: str, service: str | None, status: int) -> bool:
    """Whether a request, answered with ``status``, may have changed a function, a mapping or an HTTP API."""
    return (200 <= status < 300 and method.upper() in WRITES and service in SERVICES
            and not path.rstrip("/").endswith("/invocations"))


def telling(app: Callable, tell: Callable[[], None]) -> Callable:
    """The WSGI ``app``, calling ``tell()`` as it answers a request that :func:`changes_what_runs`."""

    def told(environ: dict, start_response: Callable) -> Any:
        def answering(status, headers, exc_info=None):
            if changes_what_runs(environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""),
                                 signing_name(environ.get("HTTP_AUTHORIZATION", "")), int(status.split()[0])):
                tell()
            return start_response(status, headers, exc_info)

        return app(environ, answering)

    return told


class Teller:
    """Calls ``ask()`` on its own thread after each :meth:`tell`; tells that come while it asks make one more ask."""

    def __init__(self, ask: Callable[[], object]) -> None:
        self._ask = ask
        self._told = threading.Event()
        threading.Thread(target=self._run, daemon=True, name="tell-the-runtime").start()

    def tell(self) -> None:
        self._told.set()

    def _run(self) -> None:
        while True:
            self._told.wait()
            self._told.clear()
            # No runtime, or one that does not answer: its own periodic read still sees the change.
            with contextlib.suppress(Exception):
                self._ask()


def ask_the_runtime() -> None:
    """Make a running local runtime read the deployed configuration now; start none."""
    from hello_winners.embedded import runtime  # the runtime's package, loaded on the first write, not at start

    runtime.nudge()
