"""The HTTP/1.1 server of the kit's local endpoints (the runtime's HTTP APIs and its control port).

http.server listened with a backlog of 5 and gave each connection a thread: of 1,000 requests at
once, hundreds got no answer at all, and what it could not parse got no status line. Here h11 (the
HTTP/1.1 protocol library of python-hyper) frames every request and answer, asyncio holds the
connections on one thread, and only complete requests reach a bounded pool of threads that runs the
handler. Whatever a client sends, it gets an HTTP answer with a status line and a JSON ``message``:

- 400 for what is not HTTP/1.1 (a bad request line or header, no Host, a Content-Length that is not
  one number sent once), 505 for another version of HTTP, 411 for a chunked body, 413 and 431 over
  the limits, 408 for a request that stops coming, 405 for a method the server does not serve and 501
  for one HTTP does not define;
- 503 with ``Retry-After`` when it is saturated: a request that waited ``queue_s`` for one of the
  ``in_flight`` threads, or a connection beyond ``connections`` open at once.

A connection that stays silent for ``timeout_s`` between requests is closed without a word; every
refusal closes its connection, since what follows a refused request cannot be trusted.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import http
import json
import logging
import re
import socket
import threading
from collections.abc import Callable, Collection

import h11

__all__ = ["Answer", "Limits", "Request", "Server"]

log = logging.getLogger(__name__)

# API Gateway's own quotas for HTTP APIs: a 10 MB payload, 10,240 bytes of request line and headers.
MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_HEADER_BYTES = 10_240
TIMEOUT_S = 30.0
# Connections waiting to be accepted: the kernel caps it (somaxconn, 4096 on current Linux). The loop
# accepts as fast as they come, so this only has to outlast a burst.
BACKLOG = 4096
# The methods HTTP defines (RFC 9110, and PATCH): one of these that is not served is a 405, any other a 501.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
READ_BYTES = 65536
LINGER_S = 1.0  # how long a refused client may go on sending before the connection is closed under it
_CONTENT_LENGTH_LINE = re.compile(rb"^content-length[ \t]*:", re.IGNORECASE | re.MULTILINE)
# Headers the server itself writes: what a handler says of them would frame the answer wrongly.
_FRAMING = frozenset({"content-length", "connection", "transfer-encoding", "keep-alive", "upgrade"})


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one request may hold, how long the server waits on a silent client, and how much it runs at once."""

    body_bytes: int = MAX_BODY_BYTES
    header_bytes: int = MAX_HEADER_BYTES
    timeout_s: float = TIMEOUT_S
    in_flight: int = 64       # requests whose handler runs at once, each on a thread of its own
    queue_s: float = 10.0     # how long a complete request waits for one of those threads before its 503
    connections: int = 4096   # connections open at once; the next one gets a 503


@dataclasses.dataclass(frozen=True)
class Request:
    """One complete request: ``headers`` as sent, in order, names in their own case."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    client: str


@dataclasses.dataclass(frozen=True)
class Answer:
    """What the handler answers; the server adds the framing (Content-Length, Connection)."""

    status: int
    headers: dict[str, str]
    body: bytes


class Server:
    """Serves ``handle(Request) -> Answer`` on ``host``:``port`` (0: any free port) from a thread of its own.

    ``methods`` are the ones it serves. ``handle`` runs on up to ``limits.in_flight`` threads at once; what
    it raises is logged and answered with a JSON 500.
    """

    def __init__(self, handle: Callable[[Request], Answer], host: str = "127.0.0.1", port: int = 0,
                 limits: Limits = Limits(), methods: Collection[str] = KNOWN_METHODS, name: str = "http") -> None:
        self._handle = handle
        self._address = (host, port)
        self.limits = limits
        self._methods = frozenset(methods)
        self._name = name
        self._socket = None
        self._loop = None
        self._thread = None
        self._pool = None
        self._stopped = None

    @property
    def port(self) -> int:
        """The port it listens on (0 until started)."""
        return self._socket.getsockname()[1] if self._socket else 0

    def start(self) -> Server:
        """Listen now (OSError when the address is taken) and serve from a background thread; returns self."""
        if self._socket is not None:
            return self
        self._socket = socket.create_server(self._address, backlog=BACKLOG)
        self._loop = asyncio.new_event_loop()
        self._pool = concurrent.futures.ThreadPoolExecutor(self.limits.in_flight, thread_name_prefix=self._name)
        listening = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(listening,), name=f"{self._name}-server", daemon=True)
        self._thread.start()
        listening.wait()
        if not self._thread.is_alive():  # the loop could not serve the socket: its log says why
            self._socket.close()
            self._socket = None
            raise OSError(f"the {self._name} server could not start serving")
        return self

    def stop(self) -> None:
        """Stop listening, end every open connection and free the port; safe to call twice."""
        if self._socket is None:
            return
        self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._socket.close()
        self._socket = self._loop = self._thread = self._pool = None

    def _run(self, listening):
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve(listening))
        except Exception:  # start() sees the thread gone and raises
            log.exception("the %s server stopped", self._name)
        finally:
            self._loop.close()
            listening.set()

    async def _serve(self, listening):
        self._stopped = asyncio.Event()
        slots = asyncio.Semaphore(self.limits.in_flight)
        connections = set()

        async def connected(reader, writer):
            task = asyncio.current_task()
            connections.add(task)
            try:
                if len(connections) > self.limits.connections:
                    await _refuse_at_once(writer, reader)
                else:
                    await _Connection(self, reader, writer, slots).serve()
            except (ConnectionError, asyncio.TimeoutError):
                pass  # the client went away, or stopped reading its answer
            except Exception:  # one connection's trouble is logged, never the server's end
                log.exception("a connection to %s failed", self._name)
            finally:
                connections.discard(task)
                writer.close()

        server = await asyncio.start_server(connected, sock=self._socket, backlog=BACKLOG)
        listening.set()
        await self._stopped.wait()
        server.close()
        for task in list(connections):
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)


class _Refused(Exception):
    """A request refused before the handler sees it, with its status, one sentence and extra headers."""

    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class _Connection:
    """One client connection: requests read one after the other, each answered before the next is read."""

    def __init__(self, server, reader, writer, slots):
        self.server = server
        self.limits = server.limits
        self.reader = reader
        self.writer = writer
        self.slots = slots
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=self.limits.header_bytes)
        self.head = bytearray()  # what this request's head arrived as: what h11 folds away (a repeated length)
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        self.client = peer[0]

    async def serve(self):
        while True:
            try:
                request = await self._request()
                if request is None:
                    return
                answer = await self._answer(request)
            except _Refused as refused:
                return await self._refuse(refused)
            await self._send(answer, request.method)
            if self.h11.our_state is not h11.DONE or self.h11.their_state is not h11.DONE:
                return  # the client asked to close, or spoke HTTP/1.0
            self.h11.start_next_cycle()
            self.head = bytearray(self.h11.trailing_data[0])

    async def _request(self):
        """The next complete request, or None when the client closed or went quiet between requests."""
        try:
            head = await asyncio.wait_for(self._event(), self.limits.timeout_s)
        except asyncio.TimeoutError:
            if self.head.strip():
                raise _Refused(408, "the request's headers did not arrive in time") from None
            return None  # an idle connection: closed without a word
        if head is None:
            return None
        method = head.method.decode("ascii")
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in head.headers.raw_items()]
        self._check(method, head, headers)
        if self.h11.client_is_waiting_for_100_continue:
            await self._write(self.h11.send(h11.InformationalResponse(status_code=100, headers=[])))
        try:
            body = await asyncio.wait_for(self._body(), self.limits.timeout_s)
        except asyncio.TimeoutError:
            raise _Refused(408, "the request body did not arrive in time") from None
        return Request(method, head.target.decode("ascii"), headers, body, self.client)

    async def _body(self):
        """The request's body (h11 refuses one that ends short of its Content-Length)."""
        body = bytearray()
        while isinstance(event := await self._event(), h11.Data):
            body += event.data
        return bytes(body)

    def _check(self, method, head, headers):
        """Refuse, before reading the body, what its head alone condemns."""
        limits = self.limits
        if head.http_version not in (b"1.0", b"1.1"):
            raise _Refused(505, "this server speaks HTTP/1.1 (and 1.0): send the request as HTTP/1.1")
        size = len(head.method) + len(head.target) + sum(len(name) + len(value) for name, value in headers)
        if size > limits.header_bytes:
            raise _Refused(431, f"the request line and headers exceed {limits.header_bytes} bytes")
        head_bytes = bytes(self.head[:len(self.head) - len(self.h11.trailing_data[0])])
        if len(_CONTENT_LENGTH_LINE.findall(head_bytes)) > 1:
            raise _Refused(400, "the Content-Length header is sent more than once: send it once")
        if method not in self.server._methods:
            served = ", ".join(sorted(self.server._methods))
            if method in KNOWN_METHODS:
                raise _Refused(405, f"{method} is not allowed: use {served}", {"Allow": served})
            raise _Refused(501, f"{method[:40]} is not an HTTP method this server knows: use {served}")
        if any(name.lower() == "transfer-encoding" for name, _ in headers):
            raise _Refused(411, "a chunked body is not supported: send a Content-Length")
        announced = next((int(value) for name, value in headers if name.lower() == "content-length"), 0)
        if announced > limits.body_bytes:
            raise _Refused(413, f"the request body exceeds {limits.body_bytes} bytes")

    async def _event(self):
        """The next h11 event, reading as needed; None when the connection ends."""
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as error:
                raise _Refused(error.error_status_hint, _said(error)) from None
            if event is not h11.NEED_DATA:
                return None if isinstance(event, h11.ConnectionClosed) else event
            try:
                data = await self.reader.read(READ_BYTES)
            except ConnectionError:
                data = b""
            if self.h11.their_state is h11.IDLE:
                self.head += data
            self.h11.receive_data(data)

    async def _answer(self, request):
        """The handler's answer, run on a thread once one is free (a 503 when none comes free in time)."""
        # Not wait_for: before Python 3.12 it can lose a slot acquired just as its time runs out.
        acquiring = asyncio.ensure_future(self.slots.acquire())
        await asyncio.wait({acquiring}, timeout=self.limits.queue_s)
        if acquiring.cancel():  # still waiting: cancelled, it takes no slot
            raise _Refused(503, f"the server is busy: {self.limits.in_flight} requests are running, try again",
                           {"Retry-After": "1"})
        try:
            return await asyncio.get_running_loop().run_in_executor(self.server._pool, self._handled, request)
        finally:
            self.slots.release()

    def _handled(self, request):
        try:
            return self.server._handle(request)
        except Exception:  # the handler's trouble is this request's 500, not the server's end
            log.exception("%s failed on %s %s", self.server._name, request.method, request.target[:200])
            return _json(500, "the server failed on this request: see its log")

    async def _send(self, answer, method):
        headers = [(name, value) for name, value in answer.headers.items() if name.lower() not in _FRAMING]
        try:
            response = h11.Response(status_code=answer.status, reason=_reason(answer.status),
                                    headers=headers + [("Content-Length", str(len(answer.body)))])
        except (h11.LocalProtocolError, UnicodeError, TypeError, ValueError):
            log.error("%s answered headers HTTP cannot carry: %r", self.server._name, headers[:20])
            answer = _json(502, "Internal Server Error")
            response = h11.Response(status_code=502, reason=_reason(502), headers=[
                *answer.headers.items(), ("Content-Length", str(len(answer.body)))])
        data = self.h11.send(response)
        if method != "HEAD":
            data += self.h11.send(h11.Data(data=answer.body))
        await self._write(data + self.h11.send(h11.EndOfMessage()))

    async def _refuse(self, refused):
        """A JSON error with ``Connection: close``, then the connection ends (after a short linger)."""
        if self.h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        answer = _json(refused.status, refused.message, refused.headers)
        response = h11.Response(status_code=answer.status, reason=_reason(answer.status), headers=[
            *answer.headers.items(), ("Content-Length", str(len(answer.body))), ("Connection", "close")])
        with contextlib.suppress(ConnectionError, asyncio.TimeoutError):
            await self._write(self.h11.send(response) + self.h11.send(h11.Data(data=answer.body))
                              + self.h11.send(h11.EndOfMessage()))
            await _linger(self.writer, self.reader)

    async def _write(self, data):
        self.writer.write(data)
        await asyncio.wait_for(self.writer.drain(), self.limits.timeout_s)  # a client that never reads is let go


async def _refuse_at_once(writer, reader):
    """A 503 to a connection over the limit, before reading its request: it may try again in a second."""
    answer = _json(503, "the server has too many connections open: try again", {"Retry-After": "1"})
    head = "".join(f"{name}: {value}\r\n" for name, value in answer.headers.items())
    writer.write(f"HTTP/1.1 503 {_reason(503)}\r\n{head}Content-Length: {len(answer.body)}\r\nConnection: close\r\n\r\n"
                 .encode("latin-1") + answer.body)
    with contextlib.suppress(ConnectionError, asyncio.TimeoutError):
        await asyncio.wait_for(writer.drain(), LINGER_S)
        await _linger(writer, reader)


async def _linger(writer, reader):
    """Close our side, then read what the client still sends for a moment: closing a socket with unread
    data resets the connection, and the client could lose the answer it was sent."""
    if writer.can_write_eof():
        writer.write_eof()
    with contextlib.suppress(ConnectionError, asyncio.TimeoutError):
        await asyncio.wait_for(_read_all(reader), LINGER_S)


async def _read_all(reader):
    while await reader.read(READ_BYTES):
        pass


def _json(status, message, headers=None):
    return Answer(status, {"Content-Type": "application/json", **(headers or {})},
                  json.dumps({"message": message}).encode())


def _reason(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _said(error):
    """One sentence for what h11 found wrong with a request."""
    detail = str(error)
    if "without sending complete message body" in detail:
        return "the request body is shorter than its Content-Length"
    if "Content-Length" in detail:
        return "the Content-Length header must be one number of bytes, sent once"
    if error.error_status_hint == 431:
        return "the request line and headers are too long"
    return f"the request is not HTTP/1.1 ({detail[:80]}): send a request line, a Host header and valid headers"
