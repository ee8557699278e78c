"""The local HTTP endpoint of the embedded target: API Gateway's part, played on 127.0.0.1.

On real AWS an HTTP API turns each request into a payload 2.0 event for the API function and the
function's answer into the HTTP response. Here a small threaded HTTP server does the same and hands
each event to an injected ``invoke(event) -> response`` callable: the local Lambda runtime's (which runs
the deployed function from its zip), or simply ``lambda event: api.handler(event, None)``.

Like API Gateway, a function that fails or answers something that is not a response gets a
502 ``{"message": "Internal Server Error"}``, and a function answer without ``statusCode`` is taken as
a 200 JSON body. ``invoke`` is called from several threads at once, one per request in flight.

What API Gateway refuses before any function runs is refused here too, with a JSON ``message``: a body
or headers over their limits (413, 431), a Content-Length that is not one (400), a chunked body (411),
a method it does not route (405 for TRACE and CONNECT, 501 for unknown ones). Every read from a client
times out (``timeout_s``), so a body shorter than announced gets a 408 and an idle connection is closed.

Example::

    with LocalApi(lambda event: api.handler(event, None)) as local:
        print(local.url)   # http://127.0.0.1:54321
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import http.server
import json
import logging
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from hello_winners.errors import ConfigError

__all__ = ["Limits", "LocalApi", "event", "http_response"]

log = logging.getLogger(__name__)

_BAD_GATEWAY = {
    "statusCode": 502,
    "headers": {"Content-Type": "application/json"},
    "body": json.dumps({"message": "Internal Server Error"}),
}
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript",
               "application/x-www-form-urlencoded", "+json", "+xml")


# API Gateway's own quotas for HTTP APIs: a 10 MB payload, 10,240 bytes of request line and headers.
MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_HEADER_BYTES = 10_240
TIMEOUT_S = 30.0


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one request may hold, and how long the server waits on a silent client."""

    body_bytes: int = MAX_BODY_BYTES
    header_bytes: int = MAX_HEADER_BYTES
    timeout_s: float = TIMEOUT_S


class LocalApi:
    """An HTTP server on ``host``:``port`` (0: any free port) that answers through ``invoke``."""

    def __init__(self, invoke: Callable[[dict], Any], host: str = "127.0.0.1", port: int = 0,
                 limits: Limits = Limits()) -> None:
        self._invoke = invoke
        self._address = (host, port)
        self._limits = limits
        self._server = None
        self._thread = None

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:54321 (known once started)."""
        if self._server is None:
            raise ConfigError("the local API is not running: call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        """The port it listens on (known once started)."""
        return int(self.url.rpartition(":")[2])

    def start(self) -> LocalApi:
        """Listen and serve in a background thread; returns self."""
        if self._server is not None:
            return self
        try:
            server = _Server(self._address, self._invoke, self._limits)
        except OSError as error:
            raise ConfigError(
                f"the local API cannot listen on {self._address[0]}:{self._address[1]} ({error.strerror}): "
                "choose another port, or port 0 for any free one"
            ) from None
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="hello-winners-local-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and free the port; safe to call twice."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def event(method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes, source_ip: str,
          now: datetime | None = None) -> dict:
    """The API Gateway HTTP API (payload 2.0) event of one request, as a ``$default`` route receives it.

    ``target`` is the request target (path and query string); ``headers`` a list of (name, value)
    pairs; ``body`` bytes. Repeated headers and query parameters are joined by commas.
    """
    now = now or datetime.now(timezone.utc)
    raw_path, _, query = target.partition("?")
    path = urllib.parse.unquote(raw_path) or "/"
    joined_headers = _joined((name.lower(), value) for name, value in headers)
    cookies = [c.strip() for c in joined_headers.pop("cookie", "").split(";") if c.strip()]
    text = _is_text(joined_headers.get("content-type", ""))
    result = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": joined_headers,
        "requestContext": {
            "apiId": "local",
            "domainName": joined_headers.get("host", ""),
            "domainPrefix": joined_headers.get("host", "").split(".")[0].split(":")[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined_headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": bool(body) and not text,
    }
    if cookies:
        result["cookies"] = cookies
    if query:
        result["queryStringParameters"] = _joined(urllib.parse.parse_qsl(query, keep_blank_values=True))
    if body:
        result["body"] = body.decode("utf-8", "replace") if text else base64.b64encode(body).decode("ascii")
    return result


def http_response(answer: Any) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body bytes) of a function's answer, by API Gateway's payload 2.0 rules.

    Raises ValueError or TypeError for an answer API Gateway would reject (its caller then answers 502).
    """
    if not isinstance(answer, dict) or "statusCode" not in answer:
        return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()
    status = answer["statusCode"]
    headers = answer.get("headers") or {}
    body = answer.get("body")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError(f"statusCode {status!r} is not an HTTP status")
    if not isinstance(headers, dict) or not isinstance(body, (str, type(None))):
        raise TypeError("headers must be an object and body a string")
    data = (body or "").encode()
    if answer.get("isBase64Encoded"):
        data = base64.b64decode(body or "", validate=True)
    return status, {str(k): str(v) for k, v in headers.items()}, data


def _joined(pairs):
    joined = {}
    for name, value in pairs:
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


def _is_text(content_type):
    content_type = content_type.split(";")[0].strip().lower()
    return not content_type or any(
        content_type.startswith(kind) if kind.endswith("/") else kind in content_type for kind in _TEXT_TYPES
    )


class _Server(http.server.ThreadingHTTPServer):
    """Remembers its open connections, so that stopping also ends the kept-alive ones."""

    daemon_threads = True

    def __init__(self, address, invoke, limits):
        super().__init__(address, _Handler)
        self.invoke = invoke
        self.limits = limits
        self._connections = set()
        self._lock = threading.Lock()

    def process_request(self, request, client_address):
        with self._lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        """A client that went away mid-request is worth a line in the log, not a traceback."""
        log.warning("a request from %s ended early: %s", client_address[0], sys.exc_info()[1])

    def close_connections(self):
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hello-winners-local-api"

    def setup(self):
        self.timeout = self.server.limits.timeout_s  # every read of this connection, idle or not
        super().setup()

    def _serve(self):
        try:
            body = self._body()
        except _Refused as refused:
            return self._refuse(refused.status, refused.message)
        except TimeoutError:
            return self._refuse(408, "the request body did not arrive in time")
        request = event(self.command, self.path, self.headers.items(), body, self.client_address[0])
        started = time.perf_counter()
        try:
            status, headers, data = http_response(self.server.invoke(request))
        except Exception:  # a crashing function is the function's problem: answer as API Gateway does
            log.exception("the API function failed on %s %s", self.command, self.path)
            status, headers, data = http_response(_BAD_GATEWAY)
        log.debug("%s %s -> %d in %.1f ms", self.command, self.path, status, 1000 * (time.perf_counter() - started))
        self._send(status, headers, data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def do_TRACE(self):
        self._refuse(405, f"{self.command} is not allowed: use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS")

    do_CONNECT = do_TRACE

    def send_error(self, code, message=None, explain=None):
        """What http.server itself refuses (an unknown method, a malformed request) is JSON too."""
        self._refuse(code, message or self.responses.get(code, ("error",))[0])

    def _body(self):
        """The request body, within the limits; raises _Refused for what API Gateway would refuse."""
        limits = self.server.limits
        header_bytes = len(self.requestline) + sum(len(name) + len(value) for name, value in self.headers.items())
        if header_bytes > limits.header_bytes:
            raise _Refused(431, f"the request line and headers exceed {limits.header_bytes} bytes")
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise _Refused(411, "a chunked body is not supported: send a Content-Length")
        announced = self.headers.get("Content-Length", "0").strip()
        if not (announced.isascii() and announced.isdigit()):
            raise _Refused(400, f"Content-Length {announced[:40]!r} is not a number of bytes")
        if int(announced) > limits.body_bytes:
            raise _Refused(413, f"the request body exceeds {limits.body_bytes} bytes")
        body = self.rfile.read(int(announced))
        if len(body) < int(announced):
            raise _Refused(400, "the request body is shorter than its Content-Length")
        return body

    def _refuse(self, status, message):
        """A JSON error, then the connection is closed: what is left of the request cannot be trusted."""
        self._send(status, {"Content-Type": "application/json"}, json.dumps({"message": message}).encode(), close=True)

    def _send(self, status, headers, data, close=False):
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")  # also makes http.server close it after this answer
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, format, *args):
        log.debug(format, *args)


class _Refused(Exception):
    """A request refused before the function sees it, with its HTTP status and one sentence."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message
