"""The follower: the room's log put on a participant's own stage stream, live, every event exactly once.

``hello-winners room follow ADDRESS --code CODE`` runs it in a terminal, and every lesson's first cell
runs it in the background of the kernel once the stage follows a room. It reads the room log with a
cursor (``/api/log?from=N&wait=S``: a long poll that answers as soon as an event lands) and puts each
page on the stream through :class:`~hello_winners.room.onstream.OnStream`, which reconciles with what
the stream already holds after a kill, so a restart puts nothing twice and skips nothing.

It never gives up on a room that does not answer (a server restarting, a laptop that slept, a Wi-Fi
gone for minutes) or a stream that is not there yet (lesson 1 creates it): it says once that it is
waiting and why, waits, and catches up. Only one follower feeds a stage at a time (a lock file), so a
terminal and a kernel, or two kernels, never put the same event twice. ``status.json`` says how it
stands: the room, how far behind, when it last heard from the room; ``hello-winners status`` shows it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from hello_winners import events
from hello_winners.errors import AwsUnreachableError, HelloWinnersError, StreamReadError
from hello_winners.game import stream
from hello_winners.room import kit
from hello_winners.room.durable import write_atomically
from hello_winners.room.onstream import OnStream

PAGE = stream.MAX_RECORDS  # events asked per read: one PutRecords batch at most
WAIT_S = 10.0  # how long one read of the room log waits for a new event (and a stop, for the read to end)
MAX_BACKOFF_S = 15.0  # the longest pause between two tries while waiting for the room or the stream
SETTLE_S = 2.0  # see OnStream: a put still in flight when the last follower was killed lands within this


class Busy(HelloWinnersError):
    """Another follower (a terminal, another kernel) feeds this stage already."""


class Gone(HelloWinnersError):
    """The room no longer knows this kit (a new room, or a wrong code): following it again is needed."""


@contextlib.contextmanager
def only_follower(here: Path) -> Iterator[None]:
    """Hold the stage's follower lock while following; Busy when another process or thread holds it."""
    here.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle = open(here / kit.LOCK_FILE, "a")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy("another follower (a terminal or another notebook's kernel) feeds this stage already") from None
        yield
    finally:
        handle.close()  # releases the lock, as a kill does


def running(here: Path) -> bool:
    """Whether a follower holds the stage's lock now."""
    try:
        with only_follower(here):
            return False
    except Busy:
        return True


class Follower:
    """Follows ``membership``'s room onto ``stream_name`` with ``kinesis``, keeping its files in ``here``.

    ``say`` hears the few lines a participant should read (waiting, caught up; with ``verbose`` each page put,
    as a terminal shows it); ``hook`` is OnStream's.
    """

    def __init__(self, membership: kit.Membership, kinesis: Any, stream_name: str, here: Path | None = None, *,
                 client: kit.RoomClient | None = None, say: Callable[[str], None] = print,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], object] = time.sleep,
                 wait_s: float = WAIT_S, settle_s: float = SETTLE_S, hook: Callable[[str], None] = lambda point: None,
                 verbose: bool = False) -> None:
        self.membership = membership
        self.kinesis = kinesis
        self.stream_name = stream_name
        self.here = Path(here) if here is not None else kit.folder(membership.stage)
        self.client = client or membership.client()
        self.say = say
        self.clock = clock
        self.sleep = sleep
        self.wait_s = wait_s
        self.onstream = OnStream(kinesis, stream_name, self.here / kit.CURSOR_FILE, sleep=sleep, clock=clock,
                                 settle_s=settle_s, hook=hook)
        self.cursor = self.onstream.cursor
        self.end = self.cursor.position  # the room log's length, as last heard
        self.heard: float | None = None
        self.waiting: str | None = None
        self.waiting_since: float | None = None
        self._stream_checked = False
        self.verbose = verbose

    # --- one step --------------------------------------------------------------------------------

    def step(self, wait: float | None = None) -> int:
        """Bring the stream one page closer to the room log; how many events it took (0: none new)."""
        if not self._stream_checked:
            self._check_stream()
        if self.cursor.pending is not None:
            page = self._read(self.cursor.position, self.cursor.pending - self.cursor.position, 0.0)
            lines = [events.encode(item["event"]) for item in page["events"]]
            if len(lines) != self.cursor.pending - self.cursor.position:
                raise Gone("the room's log is shorter than what this stage already holds: it is another room; "
                           "follow it again")
            self.onstream.finish(lines)
            return len(lines)
        page = self._read(self.cursor.position, PAGE, self.wait_s if wait is None else wait)
        if page["from"] != self.cursor.position:
            raise Gone("the room answered from another position: follow it again")
        return self.onstream.put([events.encode(item["event"]) for item in page["events"]])

    def _read(self, start: int, limit: int, wait: float) -> dict:
        try:
            page = self.client.read(start, limit, wait)
        except kit.RoomRefused as refusal:
            if refusal.status in (401, 403):
                raise Gone(f"the room does not know this kit any more ({refusal}): a new room was opened, or the "
                           "code changed; follow it again") from None
            raise kit.RoomUnreachable(str(refusal)) from None
        self.heard, self.end = self.clock(), page["end"]
        return page

    def _check_stream(self) -> None:
        """Make sure the cursor is about this stream: a stream deleted and created again starts over."""
        try:
            summary = self.kinesis.describe_stream_summary(StreamName=self.stream_name)["StreamDescriptionSummary"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                raise NoStream(f"your stage has no stream {self.stream_name} yet (lesson 1 creates it)") from None
            raise StreamReadError(f"your stream cannot be described ({error.response.get('Error', {}).get('Code')})") from None
        except BotoCoreError as error:
            raise AwsUnreachableError(f"your AWS does not answer ({type(error).__name__})") from None
        identity = f"{summary['StreamARN']}@{summary['StreamCreationTimestamp'].timestamp():.3f}"
        if self.cursor.stream != identity:
            if self.cursor.stream is not None or self.cursor.position:
                self.say(f"your stream {self.stream_name} is new: the room's events go on it again from the first")
            self.cursor.restart(identity)
            self.end = 0
        self._stream_checked = True

    # --- running -----------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Follow until ``stop`` is set (or the room no longer knows this kit: Gone); one follower per stage."""
        with only_follower(self.here):
            self.say(f"following the room {self.membership.code} at {self.membership.address} onto {self.stream_name}")
            self._status()
            backoff = 1.0
            while not stop.is_set():
                try:
                    took = self.step()
                    if took and self.verbose:
                        self.say(f"{took} events of the room put on your stream ({self.cursor.position} of {self.end})")
                    if self.membership.share:
                        kit.send(self.membership.stage, self.client)
                    if self.waiting is not None:
                        self.say(f"the {self.waiting.split(':')[0]} answers again: catching up")
                    self.waiting, self.waiting_since, backoff = None, None, 1.0
                except Gone:
                    self._status()
                    raise
                except (HelloWinnersError, OSError) as problem:  # the room or the stream: wait, then catch up
                    self._wait(problem)
                    self._status()
                    stop.wait(backoff)
                    backoff = min(MAX_BACKOFF_S, backoff * 2)
                    continue
                self._status()

    def _wait(self, problem: Exception) -> None:
        """Say once that the follower waits, and why (a new reason is said again)."""
        kind = "room" if isinstance(problem, kit.RoomUnreachable) else "stream"
        reason = f"{kind}: {problem}"
        if self.waiting is None or self.waiting.split(":")[0] != kind:
            self.say(f"waiting for the {kind} ({problem}); the room's events will catch up once it answers")
            self.waiting_since = self.clock()
        if kind == "stream":
            self._stream_checked = False  # it may come back as a new stream
        self.waiting = reason

    def status(self) -> dict:
        """How the follower stands (what ``status.json`` holds)."""
        return {"address": self.membership.address, "code": self.membership.code, "name": self.membership.name,
                "stream": self.stream_name, "on_stream": self.cursor.position, "end": self.end,
                "behind": max(0, self.end - self.cursor.position), "heard": self.heard, "waiting": self.waiting,
                "waiting_since": self.waiting_since, "pid": os.getpid(), "updated": self.clock(),
                "sharing": bool(self.membership.share)}

    def _status(self) -> None:
        with contextlib.suppress(OSError):
            write_atomically(self.here / kit.STATUS_FILE, json.dumps(self.status()).encode())


class NoStream(HelloWinnersError):
    """The stage has no stream yet: the follower waits for lesson 1 to create it."""


def describe(stage: str, now: float | None = None) -> list[str]:
    """What ``hello-winners status`` says of the stage's follower: the room, how far behind, last heard."""
    here = kit.folder(stage)
    membership = kit.Membership.load(stage)
    if membership is None:
        return []
    now = time.time() if now is None else now
    try:
        state = json.loads((here / kit.STATUS_FILE).read_text())
    except (OSError, ValueError):
        state = {}
    who = f"room {membership.code} at {membership.address} as {membership.name}"
    if not running(here):
        return [f"follows {who}: no follower runs now (`hello-winners room follow {membership.address} --code "
                f"{membership.code}`, or any lesson's first cell, starts one)"]
    heard = state.get("heard")
    ago = f"last heard from the room {_ago(now - heard)} ago" if heard else "not heard from the room yet"
    line = f"follows {who}: {state.get('behind', 0)} events behind ({state.get('on_stream', 0)} on your stream), {ago}"
    lines = [line]
    if state.get("waiting"):
        lines.append(f"  waiting for the {state['waiting']}")
    outbox = len(kit.waiting(stage))
    if membership.share:
        lines.append(f"  sharing progress with the instructor ({outbox} reports not sent yet)")
    return lines


def _ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"


def in_background(membership: kit.Membership, kinesis: Any, stream_name: str,
                  say: Callable[[str], None] = print) -> threading.Thread | None:
    """Follow in a daemon thread of this process (a notebook's kernel) unless a follower feeds the stage
    already (here or elsewhere): the thread, or None."""
    here = kit.folder(membership.stage)
    if running(here):
        return None
    stop = threading.Event()

    def follow() -> None:
        with contextlib.suppress(Busy):
            try:
                Follower(membership, kinesis, stream_name, here, say=say).run(stop)
            except Gone as gone:
                say(f"stopped following the room: {gone}")

    thread = threading.Thread(target=follow, name=f"follow-{membership.stage}", daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread
