"""The embedded server's front door: no client can hold moto's one thread.

moto runs one request at a time on one thread (embedded.moto_server). Served as WSGI, that thread read
each request's body itself, so a client that sent its headers and then stalled held every stage. Here
granian hands each request to an asyncio ASGI app instead, which:

- refuses what the headers alone condemn (unsigned, a key this server did not issue, moto's control
  routes: hello_winners.embedded.strict) before it reads any of the body;
- reads the whole body, within ``BODY_DEADLINE_S`` and ``MAX_BODY_BYTES`` (408 and 413 otherwise),
  while moto serves others;
- only then queues the request, body in hand, for moto's thread, and sends its answer.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import sys
from typing import Any, Callable

# Long enough for a Lambda zip of Lambda's largest direct upload on a slow machine, short enough that a
# stalled client is let go well before anyone waits on it.
BODY_DEADLINE_S = 30.0
MAX_BODY_BYTES = 70 * 1024 * 1024  # a 50 MB zip, base64 in a JSON body
# Threads that run moto. One: moto's work is all CPU under one GIL, so more threads only hand the GIL back
# and forth (two processes draining against the server: 3.85 ms a call with one thread, 4.94 with eight),
# and moto's backends are not thread-safe (an UpdateItem is a read, a change and a write), while every
# DynamoDB write is atomic on AWS. The other requests wait meanwhile, their bodies read.
APP_THREADS = 1


def asgi(wsgi_app: Callable, refused: Callable[[dict, Callable], Any], refuse: Callable[..., Any],
         deadline_s: float = BODY_DEADLINE_S, max_body: int = MAX_BODY_BYTES) -> Callable:
    """The ASGI app that runs the WSGI ``wsgi_app`` on one thread, each request's body read first.

    ``refused(environ, start_response)`` is the refusal of a request condemned by its headers, or None;
    ``refuse(environ, start_response, status, code, message)`` answers an error in the service's shape.
    """
    moto = concurrent.futures.ThreadPoolExecutor(max_workers=APP_THREADS, thread_name_prefix="moto")

    async def app(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        loop = asyncio.get_running_loop()
        environ = _environ(scope)
        answer = await loop.run_in_executor(moto, _answer, refused, environ)
        if answer is None:
            try:
                body = await asyncio.wait_for(_body(receive, max_body), deadline_s)
            except asyncio.TimeoutError:
                answer = _answer(refuse, environ, "408 Request Timeout", "RequestTimeout",
                                 f"the request's body did not arrive within {deadline_s:g} s")
            except _TooLarge:
                answer = _answer(refuse, environ, "413 Request Entity Too Large", "RequestEntityTooLarge",
                                 f"the request's body is over {max_body} bytes")
            else:
                environ["wsgi.input"] = io.BytesIO(body)
                environ["CONTENT_LENGTH"] = str(len(body))
                answer = await loop.run_in_executor(moto, _answer, wsgi_app, environ)
        status, headers, body = answer
        await send({"type": "http.response.start", "status": int(status.split()[0]),
                    "headers": [(name.lower().encode("latin-1"), str(value).encode("latin-1"))
                                for name, value in headers if name.lower() not in ("content-length", "connection")]
                    + [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return app


class _TooLarge(Exception):
    pass


async def _body(receive, max_body):
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_body:
            raise _TooLarge()
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _answer(wsgi_app, environ, *args):
    """(status, headers, body) of a WSGI app's answer, or None when the app answers nothing (None)."""
    started = []

    def start_response(status, headers, exc_info=None):
        started[:] = [status, headers]
        return lambda data: None

    result = wsgi_app(environ, start_response, *args)
    if result is None:
        return None
    body = b"".join(result)
    return started[0], started[1], body


def _environ(scope):
    """The WSGI environ of an ASGI HTTP scope, the path both decoded (PATH_INFO) and as sent (RAW_URI)."""
    query = scope.get("query_string", b"").decode("latin-1")
    raw_path = scope.get("raw_path") or scope["path"].encode()
    server = scope.get("server") or ("127.0.0.1", 0)
    environ = {
        "REQUEST_METHOD": scope["method"], "SCRIPT_NAME": "", "PATH_INFO": scope["path"],
        "RAW_URI": raw_path.decode("latin-1") + (f"?{query}" if query else ""), "QUERY_STRING": query,
        "SERVER_NAME": str(server[0]), "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": (scope.get("client") or ("127.0.0.1", 0))[0],
        "wsgi.version": (1, 0), "wsgi.url_scheme": scope.get("scheme", "http"), "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
    }
    for name, value in scope.get("headers", []):
        key = name.decode("latin-1").upper().replace("-", "_")
        key = key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"
        value = value.decode("latin-1")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ
