"""Entry point of the embedded server: moto's server, made strict, with three changes for the local runtime.

- Strict as AWS (hello_winners.embedded.strict): only requests signed with this state folder's keys,
  IAM policies enforced, moto's control routes closed, no CORS, and a new role's propagation delay.
  Per-request access logging is off: the kit's own logs say what a participant needs.
- moto tries to run a function in Docker for every record put on a stream that has an event source
  mapping. Real Lambda does not push: it polls the stream, and so does the kit's local runtime
  (hello_winners.embedded.runtime). Without Docker each of those attempts only fails and logs, so
  they are switched off.
- GetFunction answers, as on AWS, with ``Code.Location``: where the function's zip can be fetched.
  moto names an S3 address it does not serve; here the zip is published as a file in the state folder
  (named by its SHA-256, written once), so the runtime runs whatever code was deployed, whoever built it.
- A write to the Lambda or API Gateway API makes the server ask the runtime to read the deployment
  again at once (hello_winners.embedded.lambda_changes), as Lambda itself knows of a change at once.
- An HTTP API created or updated with ``Target`` gets what API Gateway's quick create makes
  (hello_winners.embedded.quick_create), which moto leaves out.
- Before it serves, the server proves that it refuses a forged signature and a request outside a
  participant's policy (hello_winners.embedded.self_test), or it exits saying why.

moto also lists its package folder on every request; the listing is read once (a tenth of a drain's time).
And for each UpdateItem it parses the expression twice and deep-copies the tree: each expression is
parsed once and copied from a pickle (hello_winners.embedded.update_expressions); for each member of
each answer it works out which attributes may hold it: that is remembered (serializer_keys).

HTTP is served by granian (Rust: sockets, parsing, keep-alive, all outside the GIL) in one worker
process, whose asyncio front (hello_winners.embedded.front) reads each request's whole body, with a
deadline, before it hands the request to moto's one thread.
"""

import argparse
import contextlib
import ctypes
import functools
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from granian import Granian
from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.log import LogLevels
from moto import backends
from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.exceptions import JsonRESTError
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from hello_winners.embedded import (front, lambda_changes, quick_create, self_test, serializer_keys, strict,
                                    update_expressions)
from hello_winners.targets import state
from hello_winners.targets.state import state_dir

_moto_get_code = LambdaFunction.get_code
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
PARENT_WATCH_S = 0.5  # where the kernel cannot be asked to end the worker with the server (not Linux)
# A connection that has not sent its request's headers after this long is closed (boto3 sends at once).
IDLE_CONNECTION_S = 5


def _polled_by_the_local_runtime(self, **_record):
    return None


def code_folder() -> Path:
    """Where the server publishes the deployed zips."""
    return state_dir() / "lambda-code"


def _get_code_with_location(self):
    answer = _moto_get_code(self)
    if self.code_bytes:
        answer["Code"] = {"RepositoryType": "S3", "Location": _published(self.code_bytes, self.code_digest).as_uri()}
    return answer


def _published(code: bytes, sha256_hex: str) -> Path:
    path = code_folder() / f"{sha256_hex}.zip"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(code)
            tmp.replace(path)
        except OSError as error:  # the answer says why (a full disk): a bare 500 said nothing
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            said = state.explain(error, path) or f"the embedded AWS could not write {path}: {error}"
            raise _CannotPublish(said) from None
    return path


class _CannotPublish(JsonRESTError):
    """Lambda's own 500 (ServiceException), carrying the sentence that says why the code cannot be fetched."""

    code = 500

    def __init__(self, message: str) -> None:
        super().__init__("ServiceException", message)


def _listed_once(listing):
    """moto lists its own package folder on every request to find the service; it does not change."""
    names = tuple(listing())
    return lambda: names


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The kit's embedded AWS (started by hello-winners).")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)
    os.environ["MOTO_PORT"] = str(args.port)  # moto writes its own address into some answers
    server = Granian(__name__, address=args.host, port=args.port, interface=Interfaces.ASGI, workers=1,
                     http=HTTPModes.http1,
                     log_level=LogLevels.warning,  # what went wrong (a worker lost), no line per start or request
                     http1_settings=HTTP1Settings(header_read_timeout=IDLE_CONNECTION_S * 1000))
    # granian serves from a worker process it starts; the app (and the threads it starts) is made there.
    server.serve(target_loader=functools.partial(_worker_app, args.region, os.getpid()), wrap_loader=False)


def _worker_app(region: str, server_pid: int) -> Callable:
    _ends_with(server_pid)
    return app(region)


def _ends_with(server_pid: int) -> None:
    """Make granian's worker end when the server process does (killed, it cannot stop its worker).

    An orphaned worker would serve on, holding the port and state that no record names.
    """
    if sys.platform.startswith("linux"):  # the kernel kills it the moment its parent dies
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    else:
        threading.Thread(target=_watch_parent, args=(server_pid,), daemon=True, name="parent-watch").start()
    if os.getppid() != server_pid:  # it died before the above could take effect
        os._exit(1)


def _watch_parent(server_pid: int) -> None:
    while os.getppid() == server_pid:
        time.sleep(PARENT_WATCH_S)
    os._exit(1)


def app(region: str) -> Callable:
    """moto's application, made strict, telling the runtime of changes, behind the front; call once per process."""
    LambdaBackend.send_kinesis_message = _polled_by_the_local_runtime
    LambdaFunction.get_code = _get_code_with_location
    backends.list_of_moto_modules = _listed_once(backends.list_of_moto_modules)
    update_expressions.install()
    serializer_keys.install()
    # moto's API Gateway imports jsonschema, which imports rfc3987_syntax when it is installed (Jupyter
    # brings it) and that builds a grammar for over a second (jsonschema issue #1428): each cold
    # server's first API Gateway call waited for it. Only JSON Schema's "iri" formats use it, and nothing
    # the kit sends moto has one; without it, jsonschema leaves those formats unchecked.
    sys.modules.setdefault("rfc3987_syntax", None)
    strict.install()
    strict.register_identities(DEFAULT_ACCOUNT_ID, region)
    quick_create.install()
    moto = DomainDispatcherApplication(create_backend_app)
    guarded = strict.guarded(moto)
    reason = self_test.problem(guarded, DEFAULT_ACCOUNT_ID, region, strict.enforced())
    if reason is not None:
        self_test.refuse_to_serve(reason)
    told = lambda_changes.telling(guarded, lambda_changes.Teller(lambda_changes.ask_the_runtime).tell)
    return front.asgi(told, strict.refused_from_the_headers, strict.refuse)


if __name__ == "__main__":
    main()
