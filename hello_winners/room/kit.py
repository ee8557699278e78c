"""A participant's kit in a room: its membership, its HTTP client of the room, and its progress outbox.

A participant's laptop follows the room as a *kit*: it joins once with the room code and a display
name, and keeps the token the room answers with (the room keeps only its hash) in the state folder,
beside the stage it follows for (``follow/<stage>/``, readable by its owner only). Every later request
presents the room code and that token: it reads the room log and the room's boards, and, when the
participant said yes once, reports their checks' outcomes. A report is first appended to the outbox, a
local file, so a check cell never waits for the room: the outbox is sent when the room answers, each
report carrying an id of its own, so one sent twice (a kill between the send and the outbox's update)
is kept once by the room.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import http.client
import json
import os
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hello_winners.errors import ConfigError, HelloWinnersError
from hello_winners.room.durable import write_atomically
from hello_winners.targets.state import state_dir

FOLLOW_FOLDER = "follow"
MEMBERSHIP_FILE, OUTBOX_FILE, CURSOR_FILE, STATUS_FILE, LOCK_FILE = (
    "room.json", "outbox.jsonl", "cursor.json", "status.json", "lock")
ROOM_ENV = "HELLO_WINNERS_ROOM"  # the room's join address (with its code), announced to every kernel and command
TIMEOUT_S = 10.0


class RoomUnreachable(HelloWinnersError):
    """The room server did not answer (down, restarting, the network gone): wait and try again."""


class RoomRefused(HelloWinnersError):
    """The room answered with a refusal (4xx): ``status`` and the room's sentence."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def folder(stage: str) -> Path:
    """Where a stage's kit keeps what it knows of its room."""
    return state_dir() / FOLLOW_FOLDER / stage


def parse_address(address: str, code: str | None = None) -> tuple[str, str]:
    """(base URL, room code) from what the instructor announced: the join address (its ``?code=`` is the
    code) or the server's address and ``code``."""
    parts = urllib.parse.urlsplit(address.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{address!r} is not the room's address: give the address the instructor shows, such as "
                          "http://192.168.1.23:8800/join?code=K7QX3M")
    found = code or dict(urllib.parse.parse_qsl(parts.query)).get("code")
    if not found:
        raise ConfigError("the room code is missing: add --code CODE (it is on the projector)")
    return f"{parts.scheme}://{parts.netloc}", found.strip().upper()


@dataclasses.dataclass
class Membership:
    """What a kit keeps of the room it follows: where, the code, its token and name, whether it shares its
    progress (None: not asked yet), and the stage (and target) whose stream it feeds."""

    address: str
    code: str
    token: str
    name: str
    stage: str
    target: str
    share: bool | None = None

    @classmethod
    def load(cls, stage: str) -> Membership | None:
        path = folder(stage) / MEMBERSHIP_FILE
        if not path.exists():
            return None
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            raise ConfigError(f"{path} cannot be read: delete it and follow the room again") from None

    def save(self) -> None:
        here = folder(self.stage)
        here.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomically(here / MEMBERSHIP_FILE, json.dumps(dataclasses.asdict(self), indent=2).encode())

    def client(self, timeout: float = TIMEOUT_S) -> RoomClient:
        return RoomClient(self.address, self.code, self.token, timeout)


class RoomClient:
    """The room server's API as a kit uses it: the room code and the kit's token on every request.

    ``source`` binds the requests to one of this machine's addresses (a benchmark's thirty laptops on one
    machine, each from a loopback address of its own, as a room's Wi-Fi gives each laptop its own).
    """

    def __init__(self, address: str, code: str, token: str | None = None, timeout: float = TIMEOUT_S,
                 source: str | None = None) -> None:
        self.address, self.code, self.token, self.timeout = address.rstrip("/"), code, token, timeout
        self._open = urllib.request.urlopen
        if source is not None:
            connect = functools.partial(http.client.HTTPConnection, source_address=(source, 0))

            class Bound(urllib.request.HTTPHandler):
                def http_open(self, request: urllib.request.Request) -> Any:
                    return self.do_open(connect, request)

            self._open = urllib.request.build_opener(Bound).open

    def join(self, name: str) -> str:
        """Join as a kit named ``name``; the token (also kept in ``self.token``)."""
        answer = self._call("POST", "/api/kits", {"code": self.code, "name": name})
        self.token = answer["token"]
        return self.token

    def read(self, start: int, limit: int = 500, wait: float = 0.0) -> dict:
        """The room log from ``start``: ``{"from", "next", "end", "events": [{"position", "event"}]}``, waiting
        up to ``wait`` seconds for an event when there is none yet."""
        query = urllib.parse.urlencode({"from": start, "limit": limit, "wait": wait})
        return self._call("GET", f"/api/log?{query}", timeout=self.timeout + wait)

    def boards(self) -> dict:
        """The room's reference boards: ``{"log", "boards": {role: [...]}}``."""
        return self._call("GET", "/api/boards")

    def report(self, report: dict) -> None:
        self._call("POST", "/api/progress", report)

    def own_progress(self) -> dict:
        return self._call("GET", "/api/progress")

    def _call(self, method: str, path: str, body: dict | None = None, timeout: float | None = None) -> Any:
        headers = {"Accept": "application/json", "X-Room-Code": self.code}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.address + path, data=data, headers=headers, method=method)
        try:
            with self._open(request, timeout=timeout or self.timeout) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as error:
            if error.code >= 500:
                raise RoomUnreachable(f"the room at {self.address} answers {error.code} for now") from None
            raise RoomRefused(error.code, _sentence(error)) from None
        except (OSError, ValueError) as error:  # refused, reset, timed out, no route, a torn answer
            reason = getattr(error, "reason", None) or error
            raise RoomUnreachable(f"the room at {self.address} does not answer ({_short(reason)})") from None


def _sentence(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.load(error)["error"])
    except (ValueError, KeyError, TypeError, OSError):
        return f"the room refused the request ({error.code})"


def _short(reason: object) -> str:
    text = str(reason) or type(reason).__name__
    return text if len(text) <= 80 else text[:77] + "..."


def join(address: str, code: str, name: str, stage: str, target: str) -> Membership:
    """Join the room as a kit for ``stage`` (or keep the membership it has for the same room); saved."""
    known = Membership.load(stage)
    if known is not None and (known.address, known.code) == (address, code):
        return known
    client = RoomClient(address, code)
    token = client.join(name)
    membership = Membership(address, code, token, name, stage, target,
                            share=known.share if known is not None and known.code == code else None)
    membership.save()
    for stale in (CURSOR_FILE, OUTBOX_FILE):  # another room's cursor and reports mean nothing here
        (folder(stage) / stale).unlink(missing_ok=True)
    return membership


# --- the outbox of progress reports --------------------------------------------------------------------

@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(path.with_suffix(".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def new_report(exercise: str, outcome: str, hint: str | None, at: float | None = None) -> dict:
    """One progress report: the exercise, its outcome, the hint's key, the time, and an id of its own. No
    name (the token says who), no code, no message."""
    return {"id": secrets.token_urlsafe(12), "exercise": exercise, "outcome": outcome, "hint": hint,
            "at": round(time.time() if at is None else at, 3)}


def queue(stage: str, report: dict) -> None:
    """Append a report to the stage's outbox (a local file: never waits for the room)."""
    path = folder(stage) / OUTBOX_FILE
    with _locked(path):
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(report, separators=(",", ":")) + "\n")
            out.flush()
            os.fsync(out.fileno())


def waiting(stage: str) -> list[dict]:
    """The reports not sent yet, oldest first."""
    path = folder(stage) / OUTBOX_FILE
    with _locked(path):
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def send(stage: str, client: RoomClient) -> int:
    """Send the outbox, oldest first, until the room does not answer; how many were sent. A report the room
    refuses for good (an exercise it does not know) is dropped: sending it again would not change that."""
    reports, done = waiting(stage), set()
    try:
        for report in reports:
            try:
                client.report(report)
            except RoomRefused as refusal:
                if refusal.status in (401, 403, 429):
                    break  # not this kit's fault for ever: a room restarted fresh, a flood limit
            done.add(report["id"])
    except RoomUnreachable:
        pass
    if done:
        path = folder(stage) / OUTBOX_FILE
        with _locked(path):
            left = [line for line in path.read_text(encoding="utf-8").splitlines()
                    if line.strip() and json.loads(line)["id"] not in done]
            write_atomically(path, "".join(line + "\n" for line in left).encode())
    return len(done)
