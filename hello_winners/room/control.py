"""``hello-winners room start|stop|status|export|report``: the instructor's side of the room, from the terminal.

``start`` deploys the room's stage (plan, then apply only what differs, as ``deploy`` does), then
starts the room server detached (:mod:`hello_winners.room.server`) and prints where to join. The room
lives in the state folder (``room/``: its settings, the room log, the journal, the photos) and outlives
the server: ``stop`` and ``start`` again carry on the same room, with the same code, until ``start
--fresh`` keeps it aside and opens a new one.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import segno

from hello_winners import deploy, events, targets
from hello_winners.deploy.models import Options
from hello_winners.embedded import detached
from hello_winners.errors import ConfigError
from hello_winners.game import day, eventlog, reference
from hello_winners.room import app
from hello_winners.room.config import RoomConfig, base_url, join_hosts, parse_listen
from hello_winners.targets.state import state_dir
from hello_winners.view.board import printable

ROOM_SUFFIX = "-room"
# The room's stage: its consumer takes each record as it comes (no batching window), so that a sale
# reaches the projector within two or three seconds; a room's traffic is small, the cost of the window's
# absence too.
ROOM_OPTIONS = Options(batching_window_s=0)
ROOM_FOLDER = "room"


def folder() -> Path:
    """The room's folder in the state folder."""
    return state_dir() / ROOM_FOLDER


def room_settings(target: str | None = None, stage: str | None = None) -> targets.Settings:
    """Where the room plays: the stage given, else the instructor's own stage plus "-room" (so the
    instructor's lessons keep a stage of their own, as ``play`` does)."""
    if stage is not None:
        return targets.settings(target, stage)
    own = targets.settings(target)
    return targets.settings(own.target, own.stage + ROOM_SUFFIX)


def _health_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::") else host


def _answers(record: detached.Record) -> bool:
    url = base_url(_health_host(record.details.get("host", "127.0.0.1")), record.port) + "/healthz"
    try:
        with urllib.request.urlopen(url, timeout=1.0) as answer:
            return json.load(answer).get("service") == "hello-winners room"
    except (OSError, ValueError, AttributeError):
        return False


SERVER = detached.Detached("room-server", _answers, "hello_winners.room.server", start_timeout_s=60.0)


def _free_port(host: str, port: int) -> int:
    """``port`` on ``host`` when nothing listens there (0: any free one); else ConfigError.

    The server's own socket would share a port another program listens on (granian sets SO_REUSEPORT),
    so the room checks first, with a socket that does not (SO_REUSEADDR only lets it past the closed
    connections of a server just stopped, as the server itself gets past them).
    """
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ConfigError(f"cannot listen on {host}:{port} ({error.strerror}): another program uses that port, "
                              "or the address is not this machine's; choose another with --listen") from None
        return probe.getsockname()[1]


def start(target: str | None = None, stage: str | None = None, listen: str = "127.0.0.1:8800", fresh: bool = False,
          photo_wait_s: float = 180.0, report: Callable[[str], None] = print) -> tuple[detached.Record, RoomConfig]:
    """Deploy the room's stage and start its server (or find the one running); its record and settings."""
    settings = room_settings(target, stage)
    host, port = parse_listen(listen)
    here = folder()
    running = SERVER.find()
    if running is not None and not fresh:
        report("the room server is running already (`hello-winners room stop` first to change how it listens)")
        return running, RoomConfig.load(here)
    if running is not None:
        SERVER.stop()
    if fresh and here.exists():
        kept = here.with_name(f"{ROOM_FOLDER}-{time.strftime('%Y%m%d-%H%M%S')}")
        here.rename(kept)
        report(f"the previous room is kept in {kept}")
    config = RoomConfig.load(here) if (here / "room.json").exists() else None
    if config is not None and (config.stage, config.target) != (settings.stage, settings.target):
        raise ConfigError(f"this state folder's room plays on stage {config.stage} on {config.target}, not "
                          f"{settings.stage} on {settings.target}: start it without --stage and --target, or "
                          "open a new room with --fresh (the old one is kept aside)")
    targets.get(settings.target).before_deploy()
    outputs = deploy.deploy(settings.target, settings.stage, options=ROOM_OPTIONS, report=report)
    region = deploy.clients(settings.target, settings.stage)["kinesis"].meta.region_name
    config = dataclasses.replace(config or RoomConfig.new(settings.target, settings.stage, outputs.stream),
                                 api_id=outputs.api_id, region=region, stream=outputs.stream)
    config.save(here)
    port = _free_port(host, port)
    command = [sys.executable, "-m", "hello_winners.room.server", "--folder", str(here),
               "--listen", f"{'[' + host + ']' if ':' in host else host}:{port}", "--photo-wait", str(photo_wait_s)]
    record = SERVER.ensure(command, port, details={"host": host})
    return record, config


def stop() -> detached.Record | None:
    """Stop the room server; the room (its files) stays for the next start."""
    return SERVER.stop()


def addresses(record: detached.Record, config: RoomConfig) -> dict:
    """Where to join, where the projector is, and the instructor's pages (with the token, for this machine)."""
    host = record.details.get("host", "127.0.0.1")
    joins = [f"{base_url(h, record.port)}/join?code={config.code}" for h in join_hosts(host)]
    local = base_url(_health_host(host), record.port)
    return {"join": joins, "projector": f"{local}/projector?token={config.instructor_token}",
            "instructor": f"{local}/instructor?token={config.instructor_token}", "local": local}


def describe(record: detached.Record, config: RoomConfig, report: Callable[[str], None] = print,
             qr: bool = True) -> None:
    """Print the join address (with a QR code), the room code and the instructor's addresses."""
    where = addresses(record, config)
    report(f"room code: {config.code}")
    report(f"join:      {where['join'][0]}")
    for other in where["join"][1:]:
        report(f"           {other}")
    if qr:
        lines = []
        segno.make(where["join"][0], error="m").terminal(out=_Lines(lines), compact=True)
        report("".join(lines).rstrip("\n"))
    report(f"projector: {where['projector']}")
    report(f"instructor: {where['instructor']}  (close joining, remove a player, hide a product)")
    report("the instructor token is in these two addresses: keep them off the projector and out of the chat")


class _Lines:
    """A file-like object for segno's terminal output, collecting what it writes."""

    def __init__(self, into: list[str]) -> None:
        self.into = into

    def write(self, text: str) -> None:
        self.into.append(text)


def status(report: Callable[[str], None] = print) -> int:
    """Print whether the room server runs, where to join and how the room stands; 3 when it is not running."""
    record = SERVER.find()
    here = folder()
    if record is None:
        report("room server: not running" + (f" (the room is kept in {here}: `hello-winners room start` opens it again)"
                                               if (here / "room.json").exists() else ""))
        return 3
    config = RoomConfig.load(here)
    report(f"room server: running, pid {record.pid}, stage {config.stage} on {config.target}, log {SERVER.log_path}")
    describe(record, config, report, qr=False)
    try:
        state = _ask(addresses(record, config)["local"] + "/api/status", config.instructor_token)
    except (OSError, ValueError):
        report("the room server does not answer its status right now: see its log")
        return 1
    counts = state["counts"]
    report(f"players: {counts['participants']} ({counts['merchants']} merchants, {counts['photographers']} "
           f"photographers, {counts['customers']} customers); products {counts['products']}, photos "
           f"{counts['photos']}, sales {counts['sales']}; joining {'open' if state['joining_open'] else 'closed'}")
    pump = state["pump"] or {}
    report(f"room log: {state['log']} events, {pump.get('on_stream', 0)} on the stream {config.stream}"
           + (f"; waiting to put {pump['waiting']}: {printable(pump['error'])}" if pump.get("error") else ""))
    return 0


def _ask(url: str, token: str) -> dict:
    return json.loads(_get(url, token))


def _get(url: str, token: str) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.read()


def report(path: str | Path, report: Callable[[str], None] = print) -> int:
    """Write the running room's progress grid (participants by exercise) as CSV; how many participants it holds."""
    record = SERVER.find()
    if record is None:
        raise ConfigError("the room server is not running: `hello-winners room start` it, then export the grid")
    config = RoomConfig.load(folder())
    try:
        data = _get(addresses(record, config)["local"] + "/api/progress.csv", config.instructor_token)
    except OSError as error:
        raise ConfigError(f"the room server does not answer ({error}): see `hello-winners room status`") from None
    path = Path(path)
    path.write_bytes(data)
    participants = max(0, len(data.decode("utf-8").splitlines()) - 2)
    report(f"wrote the progress of {participants} participants to {path}")
    return participants


def room_events(log_path: Path) -> list[dict]:
    """The room log's events, complete lines only (a line being written as we read is left for next time)."""
    data = log_path.read_bytes() if log_path.exists() else b""
    return [events.decode(line) for line in data[: data.rfind(b"\n") + 1].splitlines()]


def export(path: str | Path, report: Callable[[str], None] = print) -> int:
    """Write the room log as an event log (JSONL, gzip for .gz) that ``play --log``, the lessons and the
    analysis read, with its reference winners beside it; photos stay out (image events keep their path).
    The number of events written."""
    path = Path(path)
    found = room_events(folder() / app.LOG_FILE)
    if not found:
        raise ConfigError(f"there is no room log in {folder()} yet: start a room and play first")
    count = eventlog.write_log(path, found)
    winners = day.winners_path(path)
    winners.write_text(json.dumps(reference.winners(found), indent=2) + "\n")
    report(f"wrote {count} events to {path} and their winners to {winners.name}: "
           f"`hello-winners play --log {path}` replays the room's day")
    return count
