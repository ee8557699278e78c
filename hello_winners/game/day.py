"""The recorded workshop day, shipped with the package, and the one rule for putting a log on a stream.

The day (``workshop-day.jsonl``) and its expected winners live in the checkout's ``data/`` folder,
which ships inside the package as ``hello_winners.data``: they are found with importlib.resources, so
an installed kit plays as a checkout does.
"""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path
from typing import Any

from hello_winners import events
from hello_winners.game import eventlog, stream

WORKSHOP_DAY = "workshop-day.jsonl"


def workshop_day_path() -> Path:
    """The recorded day's file (a real path: the package is installed as files)."""
    return Path(str(importlib.resources.files("hello_winners.data").joinpath(WORKSHOP_DAY)))


def workshop_day() -> list[dict]:
    """The recorded workshop day's events, in stream order."""
    return list(eventlog.read_log(workshop_day_path()))


def winners_path(log: Path) -> Path:
    """Where the expected winners of a log are recorded: beside it, ``<name>.winners.json``."""
    log = Path(log)
    return log.with_name(log.name.removesuffix(".jsonl") + ".winners.json")


def recorded_winners(log: Path) -> dict | None:
    """The expected winners recorded beside a log, or None when there are none."""
    path = winners_path(log)
    return json.loads(path.read_text()) if path.is_file() else None


def already_on(kinesis: Any, stream_name: str, log: list[dict]) -> bool:
    """Whether the log is on the stream already: its first event is one of the stream's records.

    Putting a log twice would count every purchase twice. Other events on the stream (a participant's
    own, from lesson 1) do not count: only the log's own first event does.
    """
    if not log:
        return False
    first = events.encode(log[0])
    return any(data == first for _, _, data in stream.read_records(kinesis, stream_name))
