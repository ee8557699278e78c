"""Where each lesson starts: the first cell of every notebook calls ``lessons.setup(N)``.

``setup`` reaches the target (the embedded AWS, started when needed, or real AWS when
``HELLO_WINNERS_TARGET=aws``) and brings the stage to where lesson N starts, reusing what exists, so a
participant who fell behind or skipped ahead can open any lesson in a fresh kernel:

- 0, 1: nothing but the target (lesson 1 creates the stream itself);
- 2: nothing deployed (lesson 2 works in its own sandbox tables);
- 3: the stream with the workshop day on it, the tables, the queue for batches Lambda gives up on, and the
  account's permissions boundary (a room has it; an account of one's own gets it here);
- 4: everything deployed and the stream consumed;
- 5: the sandbox tables of its experiments;
- 6: the recorded day (data/workshop-day.jsonl) and the tables;
- 7: something to tear down.

When the stage follows a room (:mod:`hello_winners.workshop.inroom`), every setup keeps a follower running
in the kernel, and the room's day takes the recorded day's place on the stream.

The rest are the stage's own small tools: its stream, the workshop day on it, and sandbox tables.
Summaries of the tables live in :mod:`hello_winners.workshop.reports`, stand-ins for delivery in
:mod:`hello_winners.workshop.doubles`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import pandas as pd

from hello_winners import deploy, naming, targets
from hello_winners.deploy import executor, models, planner, teardown
from hello_winners.errors import ConfigError
from hello_winners.game import day, simulator, stream
from hello_winners.view import tables
from hello_winners.workshop import inroom, play

__all__ = [
    "LESSONS",
    "Stage",
    "ensure_stream",
    "inventory",
    "put_workshop_day",
    "reach",
    "sandbox",
    "setup",
    "small_game",
    "stages",
    "workshop_day",
]

LESSONS = {
    0: "set-up and orientation", 1: "the stream", 2: "write the consumer", 3: "deploy it to Lambda",
    4: "who is winning", 5: "delivery for real", 6: "extra credit", 7: "clean up",
}


@dataclasses.dataclass
class Stage:
    """The participant's stage: its settings, one client per service, its names and ARNs."""

    settings: targets.Settings
    clients: dict
    names: object  # deploy.names.Names

    @property
    def prefix(self) -> str:
        return self.settings.prefix

    @property
    def stream(self) -> str:
        return self.names.stream

    @property
    def tables(self) -> dict[str, str]:
        """Environment variable -> table name, as the consumer and the API read them."""
        return self.names.tables

    def outputs(self) -> deploy.Outputs:
        """What is deployed (deploy.Outputs): names, ARNs and the API's URL."""
        return deploy.outputs(self.settings, self.clients, self.names)


def reach(target: str | None = None, stage_name: str | None = None) -> Stage:
    """The stage on the target, reached (and on the embedded target, the server started)."""
    settings = targets.settings(target, stage_name)
    with targets.friendly_errors():
        clients = deploy.clients(settings.target, settings.stage)
        return Stage(settings, clients, deploy.stage_names(settings, clients))


def setup(lesson: int, target: str | None = None, stage_name: str | None = None,
          report: Callable[[str], None] = print) -> Stage:
    """Bring the stage to where ``lesson`` starts, reusing what exists; returns the Stage."""
    if lesson not in LESSONS:
        raise ConfigError(f"there is no lesson {lesson!r}: the lessons are numbered 0 to {max(LESSONS)}")
    here = reach(target, stage_name)
    with targets.friendly_errors():
        done = _STEPS[lesson](here)
        room = inroom.attach(here)
    report(f"lesson {lesson} ({LESSONS[lesson]}) on {here.settings.target}, stage {here.settings.stage}: {done}"
           + (f"; {room}" if room else ""))
    return here


def _target_only(here):
    return f"ready ({targets.get(here.settings.target).where()})"


def _stream_and_tables(here):
    created = ensure_stream(here)
    put = put_workshop_day(here)
    tables.create(here.clients["dynamodb"], here.prefix, here.settings.tags)
    desired = models.desired(here.names, here.settings.tags)
    executor.execute(here.clients, planner.queue(here.clients["sqs"], desired) + planner.boundary(
        here.clients["iam"], here.names), report=lambda line: None)
    day_line = ("the room's day arriving on it" if inroom.following(here)
                else f"{put} events of the workshop day put" if put else "the workshop day already on it")
    return f"stream {'created' if created else 'reused'}, {day_line}, tables and queue ready"


def _deployed_and_drained(here):
    first = _stream_and_tables(here)
    quiet = lambda line: None  # noqa: E731 - the one line setup prints says what happened
    outputs = deploy.deploy(here.settings.target, here.settings.stage, report=quiet)
    targets.get(here.settings.target).wait_until_consumed(here.clients, outputs.stream, outputs.tables, report=quiet)
    changes = f"{outputs.changes} changes" if outputs.changes else "nothing to change"
    return f"{first}, {changes} to deploy, the stream consumed"


def _sandboxes(here):
    for name in ("naive", "once", "kit"):
        tables.create(here.clients["dynamodb"], naming.sandbox_prefix(here.prefix, name), here.settings.tags)
    return "sandbox tables naive, once and kit ready"


def _log_and_tables(here):
    path = day.workshop_day_path()
    if not path.is_file():
        raise ConfigError(f"the recorded day {path} is missing: reinstall the kit (pip install -e .)")
    tables.create(here.clients["dynamodb"], here.prefix, here.settings.tags)
    return f"the recorded day ({path.name}) and the tables ready"


def _something_to_remove(here):
    found = teardown.inventory(here.clients, here.prefix, here.settings.stage)
    if found:
        return f"{len(found)} resources to tear down"
    ensure_stream(here)
    tables.create(here.clients["dynamodb"], here.prefix, here.settings.tags)
    return "nothing was left, so a stream and tables were created to tear down"


_STEPS = {0: _target_only, 1: _target_only, 2: _target_only, 3: _stream_and_tables, 4: _deployed_and_drained,
          5: _sandboxes, 6: _log_and_tables, 7: _something_to_remove}


# --- what the participant has left ------------------------------------------------------------------

def stages(here: Stage) -> list[targets.Settings]:
    """The participant's stages: theirs, and the one the quick start's ``hello-winners play`` played in, theirs
    plus "-play" (a stage name too long to take that suffix has none)."""
    try:
        return [here.settings, targets.settings(here.settings.target, here.settings.stage + play.PLAY_SUFFIX)]
    except ConfigError:
        return [here.settings]


def inventory(here: Stage) -> pd.DataFrame:
    """Everything the participant has left on the target, one row per resource of each of their stages (on AWS
    a forgotten play stage costs as much as their own). Columns stage, kind, name, ours."""
    rows = [(settings.stage, found.kind, found.name, found.ours) for settings in stages(here)
            for found in teardown.inventory(here.clients, settings.prefix, settings.stage)]
    return pd.DataFrame(rows, columns=["stage", "kind", "name", "ours"])


# --- the stream ------------------------------------------------------------------------------------

def ensure_stream(here: Stage) -> bool:
    """Create the stage's stream (tagged as the kit's) unless it exists; True when it was created.

    The deployment's own plan step for the stream, applied alone: lessons before the deploy need it.
    """
    desired = models.desired(here.names, here.settings.tags)
    calls = planner.stream(here.clients["kinesis"], desired)
    executor.execute(here.clients, calls, report=lambda line: None)
    return bool(calls)


def workshop_day() -> list[dict]:
    """The recorded workshop day's events, in stream order."""
    return day.workshop_day()


def small_game(seed: int = 5, participants: int = 12) -> list[dict]:
    """A smaller game (the simulator, seeded): quick to replay many times, with the same tricky parts
    (photos after purchases, a second photo of a product). Page views are left out: a consumer that
    keeps score skips them."""
    return list(simulator.simulate(seed=seed, participants=participants, views_per_customer=0,
                                   category_views_per_customer=0))


def put_workshop_day(here: Stage, progress: bool = False) -> int:
    """Put what the stream lacks of the recorded day; returns how many were put.

    Putting it twice would count every purchase twice (see :func:`hello_winners.game.day.missing`). A stage
    that follows a room gets the room's day instead (its follower puts it): nothing is put.
    """
    if inroom.following(here):
        return 0
    left = day.missing(here.clients["kinesis"], here.stream, day.workshop_day())
    return stream.put_events(here.clients["kinesis"], here.stream, left, progress=progress) if left else 0


def put_once(here: Stage, events: list[dict], put: Callable[[Any, str, dict], tuple[str, str]]) -> list[tuple[str, str]]:
    """Where each event is on the stream, (shard id, sequence number): ``put(kinesis, stream, event)``
    puts those not there yet.

    An event is there when the stream holds one of the same origin, data schema and product: the cell
    that builds your events gives them a new time on every run, and a purchase put twice counts twice.
    """
    kinesis = here.clients["kinesis"]
    found = {_identity(event): (shard, sequence) for shard, sequence, event in stream.read_stream(kinesis, here.stream)}
    return [found.get(_identity(event)) or put(kinesis, here.stream, event) for event in events]


def _identity(event: dict) -> tuple:
    data = event.get("data") or {}
    return event.get("origin"), data.get("schema"), data.get("id")


# --- tables ----------------------------------------------------------------------------------------

def sandbox(here: Stage, name: str) -> dict[str, str]:
    """Empty tables of the stage for an experiment, named ``<prefix><name>.<table>``; returns their names.

    The scan that finds what to delete is strongly consistent: an item written a moment ago must not
    survive the reset and spoil the next comparison. Only the lessons' sandboxes (naming.SANDBOXES) exist:
    a mistyped name would leave tables that no lesson reads or empties.
    """
    if name not in naming.SANDBOXES:
        raise ConfigError(f"there is no sandbox {name!r}: the lessons' sandboxes are {', '.join(naming.SANDBOXES)}")
    dynamodb = here.clients["dynamodb"]
    names = tables.create(dynamodb, naming.sandbox_prefix(here.prefix, name), here.settings.tags)
    for variable, table in names.items():
        key = tables.keys(variable)
        for page in dynamodb.get_paginator("scan").paginate(
                TableName=table, ProjectionExpression=", ".join(f"#k{i}" for i in range(len(key))),
                ExpressionAttributeNames={f"#k{i}": k for i, k in enumerate(key)}, ConsistentRead=True):
            for item in page["Items"]:
                dynamodb.delete_item(TableName=table, Key={k: item[k] for k in key})
    return names
