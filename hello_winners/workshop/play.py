"""The whole workshop in one go: deploy, put the recorded day on the stream, let the consumer drain it,
ask the winner API, and print both leaderboards. The day is put during the deploy, once the stream
exists, while IAM makes the new roles usable: that wait costs a cold play two seconds or more.

The same steps run on both targets; what differs (the API's URL, how to wait for the consumer, what
follows a teardown) is the target object's (:mod:`hello_winners.targets`).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import filelock

from hello_winners import deploy, events, naming, targets
from hello_winners.deploy import teardown as sweeper
from hello_winners.errors import DeployError, EventError
from hello_winners.game import day, eventlog, stream
from hello_winners.targets.state import own_state_dir
from hello_winners.view import board, tables

WORKSHOP_DAY = day.workshop_day_path()
PLAY_SUFFIX = "-play"


def play(target: str | None = None, stage: str | None = None, log: Path | str = WORKSHOP_DAY, fresh: bool = False,
         report: Callable[[str], None] = print, progress: bool = True) -> dict[str, list[dict]]:
    """Run the workshop on ``log``; returns the leaderboards as the winner API gave them.

    Without a ``stage`` it plays in its own (see :func:`play_settings`), never the lessons' stage.
    """
    settings = play_settings(target, stage)
    log = Path(log)
    events_of_log = list(eventlog.read_log(log))  # read whole first: a bad log must leave the stage as it was
    _check_puttable(events_of_log, log)
    report(f"playing in stage {board.printable(settings.stage)} on {settings.target}"
           + ("" if stage is not None else " (play's own: the lessons' stage is left to you)"))
    if fresh:
        teardown(settings, report)
    targets.get(settings.target).before_deploy()
    shown = board.printable(log.name)

    def put_the_day(clients: dict, names: deploy.names.Names) -> None:
        """Put while new roles propagate: the mapping reads the stream from its start (TRIM_HORIZON) anyway.

        One play at a time per stage puts (a lock in the state folder), and only what the stream lacks.
        """
        with filelock.FileLock(_lock_path(settings)):
            left = day.missing(clients["kinesis"], names.stream, events_of_log)
            if not left:
                report(f"the stream {names.stream} already holds {shown}: not putting it again, which would count "
                       "it twice. Showing its winners; `hello-winners play --fresh` starts over.")
                return
            if len(left) < len(events_of_log):
                report(f"the stream {names.stream} holds {len(events_of_log) - len(left)} of the "
                       f"{len(events_of_log)} events of {shown} (a put was interrupted): putting the other {len(left)}")
            else:
                report(f"putting {len(events_of_log)} events of {shown} on {names.stream}")
            stream.put_events(clients["kinesis"], names.stream, left, progress=progress)

    outputs = deploy.deploy(settings.target, settings.stage, report=report, meanwhile=put_the_day)
    clients = deploy.clients(settings.target, settings.stage)
    target_ = targets.get(settings.target)
    report(f"waiting for the consumer to read {outputs.stream} to its end")
    target_.wait_until_consumed(clients, outputs.stream, outputs.tables, report)
    api = WinnerApi(lambda: target_.api_url(outputs.api_id, clients["kinesis"].meta.region_name))
    boards = {role: api.get(f"/scores?role={role}&limit=100")["scores"] for role in events.ROLES}
    report(board.table(boards))
    # Compared on a consistent read of the Scores table itself: the API reads the ScoresByRole index, which
    # is never read consistently on AWS and may lag the consumer's last writes for a moment.
    verdict, matched = _against_recorded(standings(clients["dynamodb"], outputs.tables[tables.SCORES]), log)
    if not matched:
        raise DeployError(verdict)
    report(verdict)
    report(f"leaderboard page: {api.url}/")
    if target_.closing_note():
        report(target_.closing_note())
    return boards


def play_settings(target: str | None = None, stage: str | None = None) -> targets.Settings:
    """Where play plays: the stage given, else the participant's own stage plus "-play".

    Played first, as README suggests, in the lessons' own stage, it would leave them nothing to do: the
    stream and the day already there, the consumer already deployed.
    """
    if stage is not None:
        return targets.settings(target, stage)
    lessons = targets.settings(target)
    return targets.settings(lessons.target, lessons.stage + PLAY_SUFFIX)


def teardown(settings: targets.Settings, report: Callable[[str], None] = print) -> list:
    """Delete everything of the stage, then let the target catch up (the local runtime stops running it)."""
    clients = deploy.clients(settings.target, settings.stage)
    report(f"tearing down stage {settings.stage} on {settings.target}")
    removed = sweeper.teardown(clients, settings.prefix, settings.stage, report=report)
    targets.get(settings.target).after_teardown()
    return removed


def wait_until_consumed(target: str | None, clients: dict, outputs: deploy.Outputs,
                        report: Callable[[str], None] = print, timeout_s: float = 600) -> None:
    """Block until the consumer has processed what is on the stage's stream."""
    targets.get(target).wait_until_consumed(clients, outputs.stream, outputs.tables, report, timeout_s)


def _against_recorded(boards, log):
    """(what to say, whether it may be said as a success) of the rankings against the expected winners
    recorded beside the log, when there are some."""
    expected = day.recorded_winners(log)
    name = board.printable(day.winners_path(log).name)
    if expected is None:
        return f"(no {name} beside the log to compare with)", True
    if all(_ranked(boards[role][:100]) == _ranked(expected[role][:100]) for role in events.ROLES):
        return f"the rankings match the expected winners in {name}", True
    return f"the rankings DIFFER from the expected winners in {name}: the consumer or the log changed", False


def _check_puttable(events_of_log, log):
    """EventError, before any AWS call, for an event of the log that no Kinesis record can carry."""
    found = stream.oversized(events_of_log)
    if found is not None:
        number, size = found
        raise EventError(f"event {number + 1} of {board.printable(log.name)} is {size} bytes, over the 1 MiB Kinesis "
                         "record limit: nothing was deployed or put; shorten or remove it, then play again")


def standings(dynamodb: Any, scores_table: str) -> dict[str, list[dict]]:
    """Each role's entries of the Scores table, highest score first (ties by user id, as the API ranks them),
    read with a strongly consistent Scan of the base table: what the consumer has written, to the last write."""
    found: dict[str, list[dict]] = {role: [] for role in events.ROLES}
    for page in dynamodb.get_paginator("scan").paginate(TableName=scores_table, ConsistentRead=True):
        for item in page["Items"]:
            if item["role"]["S"] in found:
                found[item["role"]["S"]].append({"userId": item["userId"]["S"], "score": int(item["score"]["N"])})
    return {role: sorted(entries, key=lambda e: (-e["score"], e["userId"])) for role, entries in found.items()}


def _lock_path(settings):
    """One play at a time puts a stage's day: the lock file in the state folder, per target and stage."""
    return own_state_dir() / f"play-{settings.target}-{naming.prefix(settings.stage).strip('-')}.lock"


def _ranked(entries):
    return [(entry["userId"], entry["score"]) for entry in entries]


class WinnerApi:
    """The deployed winner API, asked by path. Its address is resolved when needed and again when it stops
    answering: the embedded target's local runtime serves it at a new address after a restart."""

    def __init__(self, resolve: Callable[[], str], sleep: Callable[[float], None] = time.sleep) -> None:
        self._resolve = resolve
        self._sleep = sleep
        self.url = resolve()

    def get(self, path: str, attempts: int = 5) -> Any:
        """The JSON answer to GET ``path``; DeployError when the API answers an error or never answers."""
        for attempt in range(attempts):
            url = self.url + path
            try:
                with urllib.request.urlopen(url, timeout=30) as response:
                    return json.load(response)
            except urllib.error.HTTPError as error:
                raise DeployError(f"the winner API answered {error.code} for {url}: {error.read()[:200]!r}") from None
            except OSError:
                if attempt == attempts - 1:
                    raise DeployError(f"the winner API at {url} does not answer: run `hello-winners status`") from None
                self._sleep(2)
                self.url = self._resolve()
