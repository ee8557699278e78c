"""The recorded workshop day, shipped with the package, and the one rule for putting a log on a stream.

The day (``workshop-day.jsonl``) and its expected winners live in the checkout's ``data/`` folder,
which ships inside the package as ``hello_winners.data``: they are found with importlib.resources, so
an installed kit plays as a checkout does.
"""

from __future__ import annotations

import collections
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


def missing(kinesis: Any, stream_name: str, log: list[dict]) -> list[dict]:
    """The log's events that are not on the stream yet, in log order: what a put must still add.

    What is on the stream decides, event by event (as many times as the log holds each), so a put that
    was interrupted is completed, and a log already on the stream is not put twice (which would count
    every purchase twice). Other events on the stream (a participant's own, from lesson 1) do not count.
    """
    on_stream = collections.Counter(data for _, _, data in stream.read_records(kinesis, stream_name))
    left = []
    for event in log:
        data = events.encode(event)
        if on_stream[data]:
            on_stream[data] -= 1
        else:
            left.append(event)
    return left
