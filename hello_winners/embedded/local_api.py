"""The local HTTP endpoint of the embedded target: API Gateway's part, played on 127.0.0.1.

On real AWS an HTTP API turns each request into a payload 2.0 event for the API function and the
function's answer into the HTTP response. Here the kit's HTTP server (http_server.py) does the same
and hands each event to an injected ``invoke(event) -> response`` callable: the local Lambda runtime's
(which runs the deployed function from its zip), or simply ``lambda event: api.handler(event, None)``.

Like API Gateway, a function that fails or answers something that is not a response gets a
502 ``{"message": "Internal Server Error"}``, and a function answer without ``statusCode`` is taken as
a 200 JSON body. ``invoke`` is called from several threads at once, one per request in flight.

What API Gateway refuses before any function runs is refused by the server, with a JSON ``message``:
a malformed request (400), a body or headers over their limits (413, 431), a chunked body (411), a
method it does not route (405 for TRACE and CONNECT, 501 for unknown ones), a request that stops
coming (408); and when more requests come at once than it runs, a 503 with ``Retry-After``.

Example::

    with LocalApi(lambda event: api.handler(event, None)) as local:
        print(local.url)   # http://127.0.0.1:54321
"""

from __future__ import annotations

import base64
import json
import logging
import time
import urllib.parse
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from hello_winners.embedded.http_server import Answer, Limits, Request, Server
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


# The methods an HTTP API routes to a $default route.
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class LocalApi:
    """An HTTP server on ``host``:``port`` (0: any free port) that answers through ``invoke``."""

    def __init__(self, invoke: Callable[[dict], Any], host: str = "127.0.0.1", port: int = 0,
                 limits: Limits = Limits()) -> None:
        self._invoke = invoke
        self._address = (host, port)
        self._limits = limits
        self._server = None

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:54321 (known once started)."""
        if self._server is None:
            raise ConfigError("the local API is not running: call start() first")
        return f"http://{self._address[0]}:{self._server.port}"

    @property
    def port(self) -> int:
        """The port it listens on (known once started)."""
        return int(self.url.rpartition(":")[2])

    def start(self) -> LocalApi:
        """Listen and serve in a background thread; returns self."""
        if self._server is not None:
            return self
        server = Server(self._answer, *self._address, limits=self._limits, methods=METHODS, name="local-api")
        try:
            self._server = server.start()
        except OSError as error:
            raise ConfigError(
                f"the local API cannot listen on {self._address[0]}:{self._address[1]} ({error.strerror}): "
                "choose another port, or port 0 for any free one"
            ) from None
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and free the port; safe to call twice."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def _answer(self, request: Request) -> Answer:
        payload = event(request.method, request.target, request.headers, request.body, request.client)
        started = time.perf_counter()
        try:
            status, headers, data = http_response(self._invoke(payload))
        except Exception:  # a crashing function is the function's problem: answer as API Gateway does
            log.exception("the API function failed on %s %s", request.method, request.target[:200])
            status, headers, data = http_response(_BAD_GATEWAY)
        log.debug("%s %s -> %d in %.1f ms", request.method, request.target[:200], status,
                  1000 * (time.perf_counter() - started))
        return Answer(status, headers, data)

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
