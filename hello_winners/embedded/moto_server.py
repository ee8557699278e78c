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

moto also lists its package folder on every request; the listing is read once (a tenth of a drain's time).
Requests are served by a pool of threads, not a new thread each (:class:`_PooledServer`).
"""

import argparse
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from moto import backends
from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer

from hello_winners.embedded import lambda_changes, strict
from hello_winners.state import state_dir

_moto_get_code = LambdaFunction.get_code
# Connections served at once. A handful is the usual need (the runtime's pollers and workers, a few kernels);
# the pool starts threads only while all are busy, so the cap only has to be out of reach.
POOL_THREADS = 256
# boto3 sends its request as soon as it connects. A connection silent this long is closed, so silent ones
# cannot hold the pool: well within the 10 s the kit waits for a busy server before calling it gone.
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
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(code)
        tmp.replace(path)
    return path


def _listed_once(listing):
    """moto lists its own package folder on every request to find the service; it does not change."""
    names = tuple(listing())
    return lambda: names


class _QuietHandler(MotoRequestHandler):
    """No line per request: at rest the runtime's polls alone would write megabytes an hour.

    A connection that sends nothing for ``timeout`` seconds is closed, giving its pool thread back.
    """

    timeout = IDLE_CONNECTION_S

    def log_request(self, code="-", size="-"):
        pass


class _PooledServer(BaseWSGIServer):
    """werkzeug's server, each connection served by a thread of a pool instead of a thread of its own.

    werkzeug closes every connection after one answer, so its threaded server starts a thread per
    request: a thread start and a hand-over of the GIL in the accept loop for every boto3 call, 5 to 7%
    of a DynamoDB call's time against moto. The pool keeps its threads and starts more only while all
    are busy, up to ``threads``.
    """

    multithread = True  # read by BaseWSGIServer: HTTP/1.1 and wsgi.multithread, as run_simple(threaded=True)

    def __init__(self, host: str, port: int, app: Callable, threads: int) -> None:
        super().__init__(host, port, app, handler=_QuietHandler)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="moto")

    def process_request(self, request, client_address):
        self._pool.submit(self._serve, request, client_address)

    def _serve(self, request, client_address):  # what socketserver.ThreadingMixIn runs in its thread
        try:
            self.finish_request(request, client_address)
        except Exception:  # noqa: BLE001 - reported by the server, as from a thread of its own
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The kit's embedded AWS (started by hello-winners).")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)
    os.environ["MOTO_PORT"] = str(args.port)  # moto writes its own address into some answers
    LambdaBackend.send_kinesis_message = _polled_by_the_local_runtime
    LambdaFunction.get_code = _get_code_with_location
    backends.list_of_moto_modules = _listed_once(backends.list_of_moto_modules)
    # moto's API Gateway imports jsonschema, which imports rfc3987_syntax when it is installed (Jupyter
    # brings it) and that builds a grammar for over a second (jsonschema issue #1428): each cold
    # server's first API Gateway call waited for it. Only JSON Schema's "iri" formats use it, and nothing
    # the kit sends moto has one; without it, jsonschema leaves those formats unchecked.
    sys.modules.setdefault("rfc3987_syntax", None)
    strict.install()
    strict.register_identities(DEFAULT_ACCOUNT_ID, args.region)
    app = lambda_changes.telling(strict.guarded(DomainDispatcherApplication(create_backend_app)),
                                 lambda_changes.Teller(lambda_changes.ask_the_runtime).tell)
    _PooledServer(args.host, args.port, app, POOL_THREADS).serve_forever()


if __name__ == "__main__":
    main()
