"""The room server's web application: the pure room modules wired to HTTP with Starlette.

The server decides nothing about events: :mod:`~hello_winners.room.actions` does, and the kit's
schemas check what it builds. Here each request is authenticated, rate-limited and read within its
size cap before it is decided; an accepted event is folded into memory, appended to the room log and
answered only once that line is fsynced; the pump then puts it on the stream. Pages are Jinja2
templates (autoescaped: names are text, never markup) with the room's own CSS and scripts only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from hello_winners import events
from hello_winners.game.simulator import CATEGORIES
from hello_winners.room import actions, photos, progress, projector, security
from hello_winners.room.config import RoomConfig
from hello_winners.room.durable import AppendLog, GroupCommit, LogFileError, write_atomically
from hello_winners.room.ledger import ROLES, Kit, Ledger, Participant
from hello_winners.room.limits import Limit
from hello_winners.room.pump import Pump
from hello_winners.room.refusal import Refused

LOG_FILE, JOURNAL_FILE, CURSOR_FILE, PHOTOS = "events.jsonl", "journal.jsonl", "pumped.json", "photos"
PROGRESS_FILE = "progress.jsonl"
FORM_BYTES = 16 * 1024  # a form without a photo
UPLOAD_BYTES = photos.MAX_BYTES + 64 * 1024  # the photo and the multipart framing around it
BODY_TIMEOUT_S = 30.0  # a body that stalls this long between two chunks is dropped
LOG_PAGE = 1000  # events per read of the room log over HTTP
LONGEST_WAIT_S = 25.0  # a follower's read of the room log waits at most this long for a new event
CODE_HEADER = "x-room-code"  # a kit presents the room code with its token
PHOTO_NAME = re.compile(r"[0-9a-f]{32}\.jpg\Z")
HERE = resources.files("hello_winners.room")


def _now_iso(clock: Callable[[], float]) -> str:
    return events.format_time(datetime.fromtimestamp(clock(), timezone.utc))


class Room:
    """A running room: its files, its folded state, its limits, and the pump that feeds the stream.

    ``kinesis`` is a boto3 Kinesis client on the instructor's stage (None: nothing is pumped, for tests
    of the pages alone); ``api_url()`` the deployed winner API's address, asked again when it fails.
    """

    def __init__(self, folder: Path, config: RoomConfig, *, kinesis: Any = None,
                 api_url: Callable[[], str | None] = lambda: None, clock: Callable[[], float] = time.time,
                 photo_wait_s: float = 180.0, poll_s: float = 1.0) -> None:
        self.folder = Path(folder)
        self.config = config
        self.clock = clock
        self.photo_wait_s = photo_wait_s
        self.poll_s = poll_s
        self.photos = self.folder / PHOTOS
        self.photos.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.log = AppendLog(self.folder / LOG_FILE)
        self.journal = AppendLog(self.folder / JOURNAL_FILE)
        self.ledger = Ledger().fold(self.log.read(), self.journal.read())
        self.events = GroupCommit(self.log)
        self.records = GroupCommit(self.journal)
        self.progress_log = AppendLog(self.folder / PROGRESS_FILE)
        self.progress = progress.Progress().fold(self.progress_log.read())
        self.reports = GroupCommit(self.progress_log)
        self.grown = asyncio.Event()  # set (and replaced) each time the room log grows: followers wait on it
        self.events.changed.append(self._grew)
        self._boards: tuple[int, dict] = (-1, {})
        self.pump = Pump(kinesis, config.stream, self.log, lambda: self.events.durable,
                         self.folder / CURSOR_FILE) if kinesis is not None else None
        if self.pump:
            self.events.changed.append(self.pump.wake.set)
        self.instructor_hash = actions.token_hash(config.instructor_token)
        self.limits = {
            "join": Limit("attempts to join", burst=10, rate=1 / 6),  # per address
            "requests": Limit("requests", burst=120, rate=30),  # per address
            "actions": Limit("actions", burst=10, rate=2),  # per participant
            "uploads": Limit("photos", burst=3, rate=1 / 5),  # per participant
            "views": Limit("views", burst=10, rate=1),  # per participant: beyond it a view is not recorded
            "reports": Limit("progress reports", burst=30, rate=1),  # per kit: a check cell run again and again
        }
        self.feed = Feed(self, api_url)
        self.progress_feed = ProgressFeed(self)
        # Photos are decoded and re-encoded two at a time: a burst of uploads takes its turn, never the
        # threads that answer the rest of the room.
        self.photo_threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="photos")

    # --- writing: fold now, answer once durable ----------------------------------------------------

    def now(self) -> str:
        return _now_iso(self.clock)

    def accept(self, event: dict) -> asyncio.Future:
        """Fold an accepted event and queue it for the room log; the future resolves once it is on disk."""
        self._writable()
        self.ledger.apply_event(event)
        return self.events.reserve(events.encode(event))

    def record(self, record: dict) -> asyncio.Future:
        """Fold a journal record (stamped with how far the log is, see Ledger.fold) and queue it."""
        self._writable()
        record["log"] = self.ledger.position
        self.ledger.apply_record(record)
        return self.records.reserve(events.encode(record))

    def _writable(self) -> None:
        """Refuse before folding anything when a file of the room could not be written (see GroupCommit)."""
        broken = self.events.broken or self.records.broken
        if broken:
            raise Refused(503, f"The room cannot save anything right now ({broken}); tell the instructor.")

    def reassign(self) -> list[asyncio.Future]:
        """Bring the photo assignments up to date: withdraw what must close, then offer what is free."""
        now, time_ = self.clock(), self.now()
        written = [self.record(record) for record in actions.withdrawals(self.ledger, now, self.photo_wait_s, time_)]
        while (offer := actions.offer(self.ledger, now, time_)) is not None:
            written.append(self.record(offer))
        return written

    def _grew(self) -> None:
        grown, self.grown = self.grown, asyncio.Event()
        grown.set()

    async def wait_for_events(self, position: int, timeout: float) -> None:
        """Return once the room log holds an event at ``position`` (or after ``timeout`` seconds)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.events.durable <= position and (left := deadline - asyncio.get_running_loop().time()) > 0:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.grown.wait(), left)

    async def reference_boards(self) -> dict:
        """The reference winners of the durable room log, computed again only when it grew."""
        durable = self.events.durable
        if self._boards[0] != durable:
            found = await asyncio.to_thread(lambda: projector.reference_boards(self.durable_events(0, durable)))
            self._boards = (durable, found)
        return self._boards[1]

    def names(self) -> dict[str, str]:
        """Each kit's display name, by kit id."""
        return {kit.id: kit.name for kit in self.ledger.kits.values()}

    def new_product_id(self) -> str:
        while (candidate := f"room-{secrets.token_hex(4)}") in self.ledger.products:
            continue
        return candidate

    # --- reading ----------------------------------------------------------------------------------

    def durable_events(self, start: int = 0, stop: int | None = None) -> list[dict]:
        stop = self.events.durable if stop is None else min(stop, self.events.durable)
        return [events.decode(line) for line in self.log.read(start, stop)]

    def status(self) -> dict:
        return {"counts": self.ledger.counts(), "log": self.events.durable, "journal": self.records.durable,
                "kits": len(self.ledger.kits), "reports": self.reports.durable,
                "joining_open": self.ledger.joining_open, "stream": self.config.stream,
                "pump": self.pump.status() if self.pump else None, "broken": self.events.broken or self.records.broken}


class Broadcast:
    """One payload shared by every open page of a kind (server-sent events), rebuilt while anyone watches."""

    def __init__(self, room: Room) -> None:
        self.room = room
        self.watchers = 0
        self.version = 0
        self.message = ""
        self.changed = asyncio.Condition()
        self.closed = False

    async def refresh(self) -> None:
        raise NotImplementedError

    async def publish(self, message: str) -> None:
        """Make ``message`` the newest, waking every open page, unless it is the one they have."""
        if message != self.message:
            async with self.changed:
                self.message, self.version = message, self.version + 1
                self.changed.notify_all()

    async def run(self, stop: asyncio.Event) -> None:
        """Refresh while watched, until ``stop``."""
        while not stop.is_set():
            if self.watchers:
                with contextlib.suppress(Exception):  # a refresh that fails shows up as the API's error line
                    await self.refresh()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), self.room.poll_s)

    async def next(self, after: int, timeout: float) -> tuple[int, str] | None:
        """The first message newer than version ``after``, or None after ``timeout`` seconds without one.
        StopAsyncIteration once the feed is closed."""
        async with self.changed:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.changed.wait_for(lambda: self.version > after or self.closed), timeout)
            if self.closed:
                raise StopAsyncIteration
            return (self.version, self.message) if self.version > after else None

    async def close(self) -> None:
        """End every open feed (the server is stopping: an open page must not hold it up)."""
        async with self.changed:
            self.closed = True
            self.changed.notify_all()

    def answer(self, event: str) -> Response:
        """The server-sent events of this broadcast, as a streaming answer."""

        async def messages() -> AsyncIterator[str]:
            self.watchers += 1
            try:
                version = 0
                yield "retry: 2000\n\n"
                while True:
                    try:
                        found = await self.next(version, timeout=15.0)
                    except StopAsyncIteration:
                        return
                    if found is None:
                        yield ": still here\n\n"  # keeps proxies and phones from closing a quiet stream
                        continue
                    version, message = found
                    yield f"event: {event}\nid: {version}\ndata: {message}\n\n"
            finally:
                self.watchers -= 1

        return StreamingResponse(messages(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


class Feed(Broadcast):
    """The projector's feed: the counts and both boards.

    The consumer's boards come from the deployed winner API (asked every ``poll_s``), the reference
    boards from the room log (recomputed when it grows); both in threads, off the event loop.
    """

    def __init__(self, room: Room, api_url: Callable[[], str | None]) -> None:
        super().__init__(room)
        self.api_url = api_url
        self._url: str | None = None
        self.consumer: dict | None = None
        self.consumer_error: str | None = None

    async def refresh(self) -> None:
        room = self.room
        durable = room.events.durable
        truth = await room.reference_boards()
        self.consumer, self.consumer_error = await asyncio.to_thread(self._boards)
        await self.publish(json.dumps(projector.payload(
            room.ledger.counts(), self.consumer, self.consumer_error, truth,
            room.pump.status() if room.pump else {"on_stream": 0, "waiting": 0, "error": "no stream", "failing_since": None},
            room.ledger.joining_open, durable), separators=(",", ":")))

    def _boards(self) -> tuple[dict | None, str | None]:
        """Both boards from the winner API (top 100 of each role), or the last ones and why they are old."""
        try:
            self._url = self._url or self.api_url()
            if not self._url:
                return None, "no winner API is deployed on the room's stage"
            boards = {}
            for role in events.ROLES:
                with urllib.request.urlopen(f"{self._url}/scores?role={role}&limit=100", timeout=5) as answer:
                    boards[role] = json.load(answer)["scores"]
            return boards, None
        except (OSError, ValueError, KeyError) as error:
            self._url = None  # asked again next time: the local runtime may serve it elsewhere now
            reason = getattr(error, "reason", None) or type(error).__name__
            return self.consumer, f"the winner API cannot be read right now ({reason})"
        except Exception as error:  # noqa: BLE001 - resolving the address may fail in any way; say so, go on
            self._url = None
            return self.consumer, f"the winner API's address cannot be found ({type(error).__name__})"



class ProgressFeed(Broadcast):
    """The instructor's progress page: the grid at the room's clock, so a participant turns stuck when the
    clock passes ten minutes, without a new report."""

    async def refresh(self) -> None:
        room = self.room
        view = progress.grid(room.progress, room.names(), room.clock())
        await self.publish(json.dumps(view, separators=(",", ":")))


# --- requests ------------------------------------------------------------------------------------

def _room(request: Request) -> Room:
    return request.app.state.room


def _address(request: Request) -> str:
    return request.client.host if request.client else "-"


def _person(request: Request) -> Participant | None:
    token = request.cookies.get(security.SESSION_COOKIE)
    return _room(request).ledger.participant(actions.token_hash(token)) if token else None


def _signed_in(request: Request) -> Participant:
    person = _person(request)
    if person is None:
        raise Refused(401, "You are not in this room (or were removed): join with the room code first.")
    return person


def _is_instructor(request: Request) -> bool:
    room = _room(request)
    header = request.headers.get("authorization", "")
    given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else request.cookies.get(
        security.INSTRUCTOR_COOKIE)
    return bool(given) and security.same_token(actions.token_hash(given), room.instructor_hash)


def _instructor(request: Request) -> None:
    if not _is_instructor(request):
        raise Refused(401, "Only the instructor may open this: use the address `hello-winners room status` prints.")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header.removeprefix("Bearer ").strip() or None if header.startswith("Bearer ") else None


def _kit(request: Request) -> Kit | None:
    """The kit a request comes from: the room code and the kit's own token, both; else None."""
    room, token = _room(request), _bearer(request)
    if token is None or request.headers.get(CODE_HEADER) is None:
        return None
    actions.check_code(room.config.code, request.headers.get(CODE_HEADER))
    return room.ledger.kit(actions.token_hash(token))


def _follower(request: Request) -> Kit:
    kit = _kit(request)
    if kit is None:
        raise Refused(401, "This kit does not follow this room: follow it again with "
                           "`hello-winners room follow ADDRESS --code CODE`.")
    return kit


async def _form(request: Request, purpose: str, holder: str | None) -> dict:
    """The posted form, after the origin and CSRF checks; Refused before anything is decided otherwise."""
    security.check_origin(request.headers, f"http://{request.headers.get('host', '')}")
    form = await request.form(max_files=1, max_fields=20, max_part_size=FORM_BYTES)
    fields = {key: form.getlist(key) if key == "roles" else form.get(key) for key in form}
    security.check_csrf(_room(request).config.secret, purpose, holder, fields.get("csrf"))
    return fields


def _csrf(request: Request, person: Participant) -> str:
    return security.csrf_token(_room(request).config.secret, "session", person.token)


def _page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    person = context.setdefault("person", _person(request))
    if person is not None:
        context.setdefault("csrf", _csrf(request, person))
    return request.app.state.templates.TemplateResponse(request, template, {"roles": ROLES, **context},
                                                        status_code=status,
                                                        headers={"Cache-Control": "no-store"})


def _see(url: str, position: int | None = None) -> RedirectResponse:
    """303 to a page (post, redirect, get); ``X-Room-Position`` tells a script where its event landed."""
    answer = RedirectResponse(url, status_code=303)
    if position is not None:
        answer.headers["X-Room-Position"] = str(position)
    return answer


async def _durable(*futures: asyncio.Future) -> list[Any]:
    try:
        return [await asyncio.shield(future) for future in futures]
    except LogFileError as error:
        raise Refused(503, f"The room cannot save anything right now ({error}); tell the instructor.") from None


# --- pages ---------------------------------------------------------------------------------------

async def home(request: Request) -> Response:
    return RedirectResponse("/me" if _person(request) else "/join", status_code=303)


async def join_page(request: Request) -> Response:
    room = _room(request)
    pre = request.cookies.get(security.JOIN_COOKIE) or security.new_token()
    answer = _page(request, "join.html", code=request.query_params.get("code", "")[:16],
                   join_csrf=security.csrf_token(room.config.secret, "join", pre),
                   joining_open=room.ledger.joining_open)
    answer.headers["Set-Cookie"] = security.cookie(security.JOIN_COOKIE, pre, max_age=3600)
    return answer


async def join(request: Request) -> Response:
    room = _room(request)
    room.limits["join"].take(_address(request))
    form = await _form(request, "join", request.cookies.get(security.JOIN_COOKIE))
    token = security.new_token()
    record = actions.join(room.ledger, room.config.code, form.get("code"), form.get("name"),
                          form.get("roles") or [], f"p{secrets.token_hex(6)}", token, room.now())
    futures = [room.record(record), *room.reassign()]
    await _durable(*futures)
    answer = _see("/me")
    answer.headers["Set-Cookie"] = security.cookie(security.SESSION_COOKIE, token)
    return answer


async def me(request: Request) -> Response:
    person = _person(request)
    if person is None:
        return RedirectResponse("/join", status_code=303)
    return _page(request, "me.html", person=person)


async def change_roles(request: Request) -> Response:
    room, person = _room(request), _signed_in(request)
    room.limits["actions"].take(person.id)
    form = await _form(request, "session", person.token)
    await _durable(room.record(actions.change_roles(person, form.get("roles") or [], room.now())), *room.reassign())
    return _see("/me")


async def merchant(request: Request) -> Response:
    room, person = _room(request), _signed_in(request)
    mine = [p for p in room.ledger.products.values() if p.merchant == person.id][::-1]
    return _page(request, "merchant.html", person=person, mine=mine, categories=list(CATEGORIES),
                 added=request.query_params.get("added"))


async def add_product(request: Request) -> Response:
    room, person = _room(request), _signed_in(request)
    room.limits["actions"].take(person.id)
    form = await _form(request, "session", person.token)
    event = actions.add_product(room.ledger, person, form, room.new_product_id(), list(CATEGORIES), room.now())
    position, *_ = await _durable(room.accept(event), *room.reassign())
    return _see(f"/merchant?added={event['data']['id']}", position)


async def photographer(request: Request) -> Response:
    room, person = _room(request), _signed_in(request)
    holding = room.ledger.assignments.holding.get(person.id)
    taken = [p for p in room.ledger.products.values() if p.photographer == person.id][::-1]
    return _page(request, "photographer.html", person=person,
                 assigned=room.ledger.products[holding] if holding else None, taken=taken,
                 wait_minutes=max(1, round(room.photo_wait_s / 60)))


async def assignment(request: Request) -> Response:
    """What the photographer's page polls: the product they are asked for, if any."""
    room, person = _room(request), _signed_in(request)
    return JSONResponse({"product": room.ledger.assignments.holding.get(person.id)},
                        headers={"Cache-Control": "no-store"})


async def upload_photo(request: Request) -> Response:
    room, person = _room(request), _signed_in(request)
    product_id = request.path_params["product"]
    room.limits["uploads"].take(person.id)
    actions.check_photo(room.ledger, person, product_id)  # before a byte of the photo is read
    form = await _form(request, "session", person.token)
    upload = form.get("photo")
    data = await upload.read() if isinstance(upload, UploadFile) else b""
    loop = asyncio.get_running_loop()
    jpeg = await loop.run_in_executor(room.photo_threads, photos.reencode, data)
    name = f"{secrets.token_hex(16)}.jpg"
    await loop.run_in_executor(room.photo_threads, write_atomically, room.photos / name, jpeg)
    try:  # the assignment may have moved on while the photo was read
        event = actions.photo(room.ledger, person, product_id, f"/photos/{name}", room.now())
    except Refused:
        (room.photos / name).unlink(missing_ok=True)
        raise
    position, *_ = await _durable(room.accept(event), *room.reassign())
    return _see("/photographer?done=1", position)


async def shop(request: Request) -> Response:
    room, person = _room(request), _signed_in(request)
    category = request.query_params.get("category")
    if category is not None and category not in CATEGORIES:
        raise Refused(404, "The shop has no such category: choose one from the list.")
    if category is not None:
        await _view(room, person, lambda: actions.view_category(person, category, room.now()))
    return _page(request, "shop.html", person=person, categories=list(CATEGORIES), category=category,
                 products=room.ledger.catalogue(category))


async def product(request: Request) -> Response:
    room, person = _room(request), _signed_in(request)
    product_id = request.path_params["product"]
    await _view(room, person, lambda: actions.view_product(room.ledger, person, product_id, room.now()))
    return _page(request, "product.html", person=person, product=room.ledger.products[product_id],
                 bought=request.query_params.get("bought") == "1")


async def _view(room: Room, person: Participant, build: Callable[[], dict]) -> None:
    """Record a page view for the extra credit, unless the participant is viewing faster than the limit."""
    event = build()  # refuses a product that is not in the shop, whatever the limit
    try:
        room.limits["views"].take(person.id)
    except Refused:
        return
    await _durable(room.accept(event))


async def buy(request: Request) -> Response:
    room, person = _room(request), _signed_in(request)
    room.limits["actions"].take(person.id)
    form = await _form(request, "session", person.token)
    event = actions.purchase(room.ledger, person, form.get("product"), room.now())
    position, = await _durable(room.accept(event))
    return _see(f"/products/{event['data']['id']}?bought=1", position)


async def photo_file(request: Request) -> Response:
    room = _room(request)
    if _person(request) is None and not _is_instructor(request):
        raise Refused(401, "You are not in this room: join with the room code first.")
    name = request.path_params["name"]
    path = room.photos / name
    if not PHOTO_NAME.match(name) or not path.is_file():
        raise Refused(404, "There is no such photo.")
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


# --- the instructor -------------------------------------------------------------------------------

def _instructor_entry(request: Request, page: str) -> Response | None:
    """Trade ``?token=`` in the address for the instructor's cookie (a redirect, so the token leaves the
    address bar); else None once the request is known to be the instructor's."""
    token = request.query_params.get("token")
    if token is None:
        _instructor(request)
        return None
    room = _room(request)
    if not security.same_token(actions.token_hash(token), room.instructor_hash):
        raise Refused(401, "That instructor token is not this room's: use the address `hello-winners room status` prints.")
    answer = RedirectResponse(page, status_code=303)
    answer.headers["Set-Cookie"] = security.cookie(security.INSTRUCTOR_COOKIE, token)
    return answer


async def projector_page(request: Request) -> Response:
    if entry := _instructor_entry(request, "/projector"):
        return entry
    room = _room(request)
    return _page(request, "projector.html", person=None, code=room.config.code,
                 join_url=request.app.state.join_url, qr=request.app.state.qr_svg)


async def projector_feed(request: Request) -> Response:
    _instructor(request)
    return _room(request).feed.answer("room")


async def instructor_page(request: Request) -> Response:
    if entry := _instructor_entry(request, "/instructor"):
        return entry
    room = _room(request)
    return _page(request, "instructor.html", person=None, ledger=room.ledger, state=room.status(),
                 csrf=security.csrf_token(room.config.secret, "instructor", room.instructor_hash))


async def instructor_action(request: Request) -> Response:
    _instructor(request)
    room = _room(request)
    form = await _form(request, "instructor", room.instructor_hash)
    what = request.path_params["action"]
    if what == "joining":
        record = actions.joining(form.get("open") == "1", room.now())
    elif what == "remove":
        record = actions.remove(room.ledger, form.get("participant"), room.now())
    elif what == "hide":
        record = actions.hide(room.ledger, form.get("product"), form.get("hidden") != "0", room.now())
    else:
        raise Refused(404, "There is no such instructor action.")
    await _durable(room.record(record), *room.reassign())
    return _see("/instructor")


async def status(request: Request) -> Response:
    _instructor(request)
    return JSONResponse(_room(request).status())


async def room_log(request: Request) -> Response:
    """The room log from a position on: ``{"from", "events": [{"position", "event"}], "next", "end"}``.

    Positions never change, so a reader resumes from ``next``. For the instructor, participants and their
    kits (a follower). ``wait=S`` (up to 25) holds the answer until an event at ``from`` is durable or S
    seconds pass: a follower hears of each event at once without asking again and again.
    """
    if _kit(request) is None and _person(request) is None and not _is_instructor(request):
        raise Refused(401, "You are not in this room: join with the room code first.")
    room = _room(request)
    try:
        start = int(request.query_params.get("from", "0"))
        limit = int(request.query_params.get("limit", str(LOG_PAGE)))
        wait = float(request.query_params.get("wait", "0"))
    except ValueError:
        raise Refused(400, "from and limit must be whole numbers, wait seconds: e.g. /api/log?from=0&limit=100.") from None
    if start < 0 or not 1 <= limit <= LOG_PAGE or not 0 <= wait <= LONGEST_WAIT_S:
        raise Refused(400, f"from must be 0 or more, limit 1 to {LOG_PAGE} and wait 0 to {LONGEST_WAIT_S:.0f}.")
    if wait:
        await room.wait_for_events(start, wait)
    end = room.events.durable
    found = room.durable_events(start, start + limit)
    return JSONResponse({"from": start, "next": start + len(found), "end": end,
                         "events": [{"position": start + i, "event": e} for i, e in enumerate(found)]})


async def join_kit(request: Request) -> Response:
    """A participant's kit joins to follow the room: ``{"code", "name"}`` in, ``{"token", "name"}`` out (201).

    The token is shown once; the room keeps its hash. Rate-limited per address as joining is.
    """
    room = _room(request)
    room.limits["join"].take(_address(request))
    security.check_origin(request.headers, f"http://{request.headers.get('host', '')}")
    try:
        asked = json.loads(await request.body())
    except ValueError:
        asked = None
    if not isinstance(asked, dict) or set(asked) - {"code", "name"}:
        raise Refused(400, 'Send {"code": ..., "name": ...} as JSON to follow the room.')
    token = security.new_token()
    record = actions.join_kit(room.ledger, room.config.code, asked.get("code"), asked.get("name"),
                              f"k{secrets.token_hex(6)}", token, room.now())
    await _durable(room.record(record))
    return JSONResponse({"token": token, "name": record["name"]}, status_code=201, headers={"Cache-Control": "no-store"})


async def room_boards(request: Request) -> Response:
    """The room's reference winners (what the projector shows beside the consumer's) and how far the log is."""
    if _kit(request) is None and not _is_instructor(request):
        raise Refused(401, "Only a kit that follows this room may read its boards: follow it first.")
    room = _room(request)
    durable = room.events.durable
    return JSONResponse({"log": durable, "boards": await room.reference_boards()})


async def report_progress(request: Request) -> Response:
    """One progress report of the kit whose token sent it; a report sent twice is kept once."""
    room = _room(request)
    kit = _follower(request)
    room.limits["reports"].take(kit.id)
    record = progress.read_report(await request.body(), kit.id, room.clock())
    if room.progress.known(kit.id, record["id"]):
        return JSONResponse({"kept": False}, headers={"Cache-Control": "no-store"})
    if room.reports.broken:
        raise Refused(503, f"The room cannot save anything right now ({room.reports.broken}); tell the instructor.")
    room.progress.apply(record)
    await _durable(room.reports.reserve(json.dumps(record, separators=(",", ":")).encode()))
    if room.progress_feed.watchers:
        await room.progress_feed.refresh()
    return JSONResponse({"kept": True}, status_code=201, headers={"Cache-Control": "no-store"})


async def own_progress(request: Request) -> Response:
    """A kit's own progress as the room has it (never anyone else's)."""
    kit = _follower(request)
    return JSONResponse({"name": kit.name, "progress": _room(request).progress.of(kit.id)},
                        headers={"Cache-Control": "no-store"})


async def progress_page(request: Request) -> Response:
    if entry := _instructor_entry(request, "/instructor/progress"):
        return entry
    return _page(request, "progress.html", person=None, stuck_minutes=progress.STUCK_S // 60)


async def progress_feed(request: Request) -> Response:
    _instructor(request)
    return _room(request).progress_feed.answer("progress")


async def progress_csv(request: Request) -> Response:
    """The grid as CSV, for ``hello-winners room report``."""
    _instructor(request)
    room = _room(request)
    view = progress.grid(room.progress, room.names(), room.clock())
    return Response(progress.report_csv(view), media_type="text/csv; charset=utf-8",
                    headers={"Cache-Control": "no-store"})


async def healthz(request: Request) -> Response:
    return JSONResponse({"service": "hello-winners room"})


async def refused(request: Request, error: Exception) -> Response:
    """Every refusal: one sentence, as JSON for the API and scripts, else as a small page."""
    assert isinstance(error, Refused)
    headers = {**error.headers, "Cache-Control": "no-store"}
    if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"error": str(error)}, status_code=error.status, headers=headers)
    return request.app.state.templates.TemplateResponse(
        request, "refused.html", {"message": str(error), "person": None, "roles": ROLES},
        status_code=error.status, headers=headers)


# --- the application --------------------------------------------------------------------------------

class Guard:
    """ASGI middleware for what every request needs: the per-address limit, the body caps (and a body that
    stalls), and the security headers on every answer, refusals included."""

    def __init__(self, app: Callable, room: Room) -> None:
        self.app = app
        self.room = room

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def secured(message: dict) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *((k.lower().encode(), v.encode())
                                                             for k, v in security.HEADERS.items())]
            await send(message)

        client = scope.get("client") or ("-", 0)
        cap = (UPLOAD_BYTES if scope["path"].startswith("/photos/") and scope["method"] == "POST"
               else progress.REPORT_BYTES if scope["path"] == "/api/progress" else FORM_BYTES)
        try:
            self.room.limits["requests"].take(client[0])
            declared = dict(scope["headers"]).get(b"content-length")
            if declared is not None and (not declared.isdigit() or int(declared) > cap):
                raise _too_large(cap)
        except Refused as error:
            return await _plain(error, secured)
        seen = 0

        async def capped() -> dict:
            nonlocal seen
            try:
                message = await asyncio.wait_for(receive(), BODY_TIMEOUT_S)
            except asyncio.TimeoutError:
                raise Refused(408, "The upload stalled: send it again on a steadier connection.") from None
            seen += len(message.get("body", b""))
            if seen > cap:
                raise _too_large(cap)
            return message

        await self.app(scope, capped, secured)


def _too_large(cap: int) -> Refused:
    return Refused(413, f"That is more than the room takes at once ({cap // 1024:,} KB): send less.")


async def _plain(error: Refused, send: Callable) -> None:
    body = json.dumps({"error": str(error)}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               *((k.lower().encode(), v.encode()) for k, v in error.headers.items())]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def create_app(room: Room, join_url: str) -> Starlette:
    """The room's ASGI application; its background work (the pump, assignments, the projector's feed) runs
    while the application does (Starlette's lifespan)."""
    import segno

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop, stop_pump = asyncio.Event(), threading.Event()
        pump = threading.Thread(target=room.pump.run, args=(stop_pump,), daemon=True, name="pump") if room.pump else None
        if pump:
            pump.start()
        tasks = [asyncio.create_task(room.feed.run(stop)), asyncio.create_task(room.progress_feed.run(stop)),
                 asyncio.create_task(_reassigning(room, stop))]
        try:
            yield
        finally:
            stop.set()
            stop_pump.set()
            if room.pump:
                room.pump.wake.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            if pump:
                await asyncio.to_thread(pump.join, 30)

    app = Starlette(routes=[
        Route("/", home),
        Route("/join", join_page, methods=["GET"]),
        Route("/join", join, methods=["POST"]),
        Route("/me", me),
        Route("/roles", change_roles, methods=["POST"]),
        Route("/merchant", merchant),
        Route("/products", add_product, methods=["POST"]),
        Route("/photographer", photographer),
        Route("/photos/{product}", upload_photo, methods=["POST"]),
        Route("/photos/{name}", photo_file, methods=["GET"]),
        Route("/shop", shop),
        Route("/products/{product}", product),
        Route("/purchases", buy, methods=["POST"]),
        Route("/projector", projector_page),
        Route("/projector/feed", projector_feed),
        Route("/instructor", instructor_page),
        Route("/instructor/progress", progress_page, methods=["GET"]),
        Route("/instructor/progress/feed", progress_feed),
        Route("/instructor/{action}", instructor_action, methods=["POST"]),
        Route("/api/assignment", assignment),
        Route("/api/status", status),
        Route("/api/log", room_log),
        Route("/api/kits", join_kit, methods=["POST"]),
        Route("/api/boards", room_boards),
        Route("/api/progress", report_progress, methods=["POST"]),
        Route("/api/progress", own_progress, methods=["GET"]),
        Route("/api/progress.csv", progress_csv),
        Route("/healthz", healthz),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ], exception_handlers={Refused: refused}, lifespan=lifespan)
    app.state.room = room
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.state.join_url = join_url
    app.state.qr_svg = segno.make(join_url, error="m").svg_inline(scale=8, border=2, dark="#111", light="#fff", omitsize=True)
    app.add_middleware(Guard, room=room)
    return app


async def _reassigning(room: Room, stop: asyncio.Event) -> None:
    """Withdraw overdue assignments and offer products to photographers, a few times a photo wait."""
    while not stop.is_set():
        with contextlib.suppress(Refused):  # a room that cannot write says so to every request already
            room.reassign()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.5, min(10.0, room.photo_wait_s / 10)))
