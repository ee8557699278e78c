"""The lessons in a room: following it from a notebook, sharing the checks' outcomes, comparing boards.

A room is *announced* to a laptop by ``HELLO_WINNERS_ROOM`` (the join address the instructor shows,
its ``?code=`` included) or by ``hello-winners room follow`` having joined it for the stage. Then
lesson 1 joins it (asking a display name, and once whether to share progress: off unless yes), and
every lesson's first cell keeps a follower running in the background of its kernel, so the room's
events reach the stage's stream while the participant works. Nothing here runs when no room is
announced: the lessons are then exactly what they are without a room.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections import Counter
from typing import Any, Callable

import pandas as pd

from hello_winners import events
from hello_winners.game import stream
from hello_winners.room import follow, kit, plan

_current: kit.Membership | None = None  # the room this kernel's stage follows, once a lesson's setup found it
_sending = threading.Lock()
_followers: dict[str, threading.Thread] = {}  # stage -> this process's background follower


def _follow(known: kit.Membership, here: Any, say: Callable[[str], None]) -> bool:
    """Keep one background follower of the stage in this process (unless one runs elsewhere); True when it
    runs here."""
    running = _followers.get(known.stage)
    if running is not None and running.is_alive():
        return True
    started = follow.in_background(known, here.clients["kinesis"], here.stream, say=say)
    if started is not None:
        _followers[known.stage] = started
    return started is not None


def stop_following(timeout: float = 30.0) -> None:
    """Stop this process's background followers (a kernel shutting down, a test ending): each ends after the
    read of the room log it is waiting on."""
    threads = [_followers.pop(stage) for stage in list(_followers)]
    for thread in threads:
        thread.stop.set()  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


def announced() -> tuple[str, str] | None:
    """(address, code) of the room announced by ``HELLO_WINNERS_ROOM``, or None."""
    value = os.environ.get(kit.ROOM_ENV, "").strip()
    return kit.parse_address(value) if value else None


def _ask(question: str, ask: Callable[[str], str]) -> str:
    try:
        return ask(question).strip()
    except (EOFError, OSError, RuntimeError):  # no one to ask (a script, a kernel without stdin)
        return ""
    except Exception:  # noqa: BLE001 - IPython's StdinNotImplementedError, when the frontend cannot answer
        return ""


def follow_room(here: Any, address: str | None = None, name: str | None = None, share: bool | None = None,
                ask: Callable[[str], str] = input, say: Callable[[str], None] = print) -> kit.Membership | None:
    """Lesson 1's cell: join the announced room (or ``address``) for this stage and follow it in the background.

    Asks the display name (unless given) and, once, whether to share progress with the instructor: only a
    yes shares. None, with one line saying so, when no room is announced.
    """
    global _current
    settings = here.settings
    known = kit.Membership.load(settings.stage)
    where = kit.parse_address(address) if address else announced()
    if where is None and known is None:
        say("No room is announced: this lesson plays on your own stream (the instructor's address, given to "
            "follow_room or in HELLO_WINNERS_ROOM, follows a room).")
        return None
    if where is not None and (known is None or (known.address, known.code) != where):
        shown = name or _ask("Your display name in the room: ", ask) or settings.stage
        known = kit.join(*where, shown, settings.stage, settings.target)
    if share is not None or known.share is None:
        answer = share if share is not None else _ask(
            "Share your progress with the instructor (your display name, each check's exercise, passed or failed, "
            "the hint's key, the time; never your code)? [y/N] ", ask).lower() in ("y", "yes")
        known.share = bool(answer)
        known.save()
    _current = known
    started = _follow(known, here, say)
    say(f"following room {known.code} as {known.name}: its events arrive on {here.stream}"
        + ("" if started else " (a follower runs already, in a terminal or another notebook)")
        + ("; your checks' outcomes go to the instructor" if known.share else "; your progress stays here"))
    return known


def attach(here: Any, say: Callable[[str], None] = print) -> str | None:
    """Every lesson's setup: when the stage follows a room, keep a follower running in this kernel; a line
    for the setup's report, or None when the stage follows no room."""
    global _current
    known = kit.Membership.load(here.settings.stage)
    if known is None:
        _current = None
        return None
    _current = known
    started = _follow(known, here, say)
    return f"following room {known.code} as {known.name}" + (" (here)" if started else "")


def following(here: Any) -> bool:
    """Whether this stage follows a room (so its stream carries the room's day, not the recorded one)."""
    return kit.Membership.load(here.settings.stage) is not None


# --- progress -------------------------------------------------------------------------------------------

def share(exercise: str, outcome: str, hint: str | None) -> None:
    """A check's outcome, queued for the room when this kernel's stage follows one and the participant said
    yes; sent in the background at once (and by the follower later, if the room does not answer now)."""
    known = _current
    if known is None or not known.share or exercise not in plan.EXERCISES:
        return
    kit.queue(known.stage, kit.new_report(exercise, outcome, hint))
    threading.Thread(target=_send, args=(known,), daemon=True, name="progress").start()


def _send(known: kit.Membership) -> None:
    if _sending.acquire(timeout=30):  # one sender at a time; each sends whatever the outbox holds by then
        try:
            with contextlib.suppress(Exception):  # the room may be away: the outbox keeps the reports
                kit.send(known.stage, known.client(timeout=3.0))
        finally:
            _sending.release()


def report_as(membership: kit.Membership | None) -> None:
    """Make this kernel's checks report as ``membership``'s kit (when it shares), or as nobody (None)."""
    global _current
    _current = membership


# --- lesson 1: the room's events arriving ---------------------------------------------------------------------

def arrivals(here: Any, seconds: float = 20.0, say: Callable[[str], None] = print,
             sleep: Callable[[float], object] = time.sleep) -> int:
    """Show the room's events as they land on the stage's stream, for up to ``seconds``; how many landed."""
    known = kit.Membership.load(here.settings.stage)
    if known is None:
        say("No room is followed: nothing arrives from a room.")
        return 0
    status_file = kit.folder(known.stage) / kit.STATUS_FILE
    client, seen, landed = known.client(), _on_stream(status_file), 0
    say(f"{seen} events of room {known.code} are on your stream; watching for {seconds:.0f} s")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        now = _on_stream(status_file)
        if now > seen:
            with contextlib.suppress(kit.RoomUnreachable, kit.RoomRefused):
                for item in client.read(seen, min(now - seen, 100))["events"]:
                    say(f"  #{item['position']}: {describe_event(item['event'])}")
            landed, seen = landed + now - seen, now
        sleep(1.0)
    return landed


def _on_stream(path: Any) -> int:
    try:
        return int(json.loads(path.read_text())["on_stream"])
    except (OSError, ValueError, KeyError):
        return 0


def describe_event(event: dict) -> str:
    """One line for a room event: its kind, the product, who."""
    who = events.parse_origin(event.get("origin", "")) or ("", "someone")
    data = event.get("data", {})
    return f"{events.kind(event)} of {data.get('name') or data.get('id')} by {who[1]}"


# --- lesson 4: your leaderboard beside the room's --------------------------------------------------------------

def side_by_side(mine: dict[str, list[dict]], room: dict[str, list[dict]], top: int = 10) -> pd.DataFrame:
    """Both boards of each role, row by row: rank, yours (name, score), the room's, and whether they agree."""
    rows = []
    for role in events.ROLES:
        ours, theirs = mine.get(role, [])[:top], room.get(role, [])[:top]
        for rank in range(max(len(ours), len(theirs))):
            a = ours[rank] if rank < len(ours) else {}
            b = theirs[rank] if rank < len(theirs) else {}
            rows.append({"role": role, "rank": rank + 1, "yours": a.get("name", ""), "your score": a.get("score"),
                         "room's": b.get("name", ""), "room's score": b.get("score"),
                         "same": (a.get("userId"), a.get("score")) == (b.get("userId"), b.get("score"))})
    return pd.DataFrame(rows, columns=["role", "rank", "yours", "your score", "room's", "room's score", "same"])


def why_different(frame: pd.DataFrame, extra: int, missing: int, behind: int) -> list[str]:
    """Why the boards differ, most likely cause first: the stream's content, else the consumer."""
    if frame["same"].all():
        return ["Your leaderboard is the room's: the same people, with the same scores."]
    differing = ", ".join(f"{row.role} #{row.rank}" for row in frame[~frame["same"]].itertuples())
    reasons = [f"The boards differ at {differing}."]
    if missing:
        reasons.append(f"{missing} of the room's events are not on your stream yet"
                       + (f" (your follower is {behind} behind: it catches up by itself)" if behind else
                          " (is a follower running? `hello-winners status` says)") + ".")
    if extra:
        reasons.append(f"Your stream also holds {extra} events that are not the room's (your own from lesson 1, or "
                       "the recorded day): your consumer counts them too.")
    if not missing and not extra:
        reasons.append("Your stream holds exactly the room's events: your consumer has not counted them all yet "
                       "(run this cell again in a few seconds), or counts some differently (lesson 5).")
    return reasons


def compare(here: Any, mine: dict[str, list[dict]], say: Callable[[str], None] = print) -> pd.DataFrame | None:
    """Lesson 4's cell: your leaderboard beside the room's (its projector's reference), and why they differ."""
    known = kit.Membership.load(here.settings.stage)
    if known is None:
        say("No room is followed: your leaderboard is the recorded day's, checked above.")
        return None
    client = known.client()
    room = client.boards()["boards"]
    room_log, start = [], 0
    while True:
        page = client.read(start, 1000)
        room_log += [events.encode(item["event"]) for item in page["events"]]
        start = page["next"]
        if start >= page["end"] or not page["events"]:
            break
    on_stream = Counter(data for _, _, data in stream.read_records(here.clients["kinesis"], here.stream))
    expected = Counter(room_log)
    extra, missing = sum((on_stream - expected).values()), sum((expected - on_stream).values())
    frame = side_by_side(mine, room)
    for line in why_different(frame, extra, missing, max(0, len(room_log) - on_stream_count(expected, on_stream))):
        say(line)
    return frame


def on_stream_count(expected: Counter, on_stream: Counter) -> int:
    """How many of the room's events the stream holds."""
    return sum((expected & on_stream).values())
