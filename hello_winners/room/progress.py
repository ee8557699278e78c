"""Progress from the checks themselves: a participant's reports, checked, folded, and shown as a grid.

A check cell of a participant who chose to share reports one line: the exercise, passed, failed or
not done yet, the key of the hint it gave (``tally_purchase`` failing gives a key such as
``score-only-roles-the-item-has``, never the hint's text, never the participant's code) and when. The
room binds it to the kit whose token sent it: a report names nobody, so nobody can report for another.

Pure: reports arrive as bytes with the time of their arrival, and the grid is computed at a time
passed in (the instructor's page asks every second: a participant becomes stuck when the clock says so).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import statistics
from collections.abc import Iterable
from typing import Any

import fastjsonschema

from hello_winners.room import plan
from hello_winners.room.refusal import Refused

PASSED, FAILED, NOT_DONE = "passed", "failed", "not-done"
OUTCOMES = (PASSED, FAILED, NOT_DONE)
STUCK_S = 10 * 60  # failing the same exercise this long: the instructor should come by
REPORT_BYTES = 1024  # a report is a hundred bytes or so
HINT_KEY = r"^[a-z0-9]+(-[a-z0-9]+){0,11}$"
HINT_KEY_MAX = 64
SKEW_S = 24 * 3600  # a report's own time may be this far in the past (a laptop that slept queued it)

_SCHEMA = fastjsonschema.compile({
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "exercise", "outcome", "at"],
    "properties": {
        "id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
        "exercise": {"type": "string", "maxLength": 64},
        "outcome": {"type": "string", "maxLength": 16},
        "hint": {"type": ["string", "null"], "maxLength": HINT_KEY_MAX},
        "at": {"type": "number"},
    },
})


def read_report(body: bytes, kit_id: str, received: float) -> dict:
    """The record to keep of one report ``body`` from kit ``kit_id``, or Refused (4xx) with one sentence."""
    if len(body) > REPORT_BYTES:
        raise Refused(413, f"A progress report is at most {REPORT_BYTES} bytes: send one report at a time.")
    try:
        report = json.loads(body)
    except ValueError:
        raise Refused(400, "A progress report is a JSON object: send what the kit's checks send.") from None
    try:
        _SCHEMA(report)
    except fastjsonschema.JsonSchemaException as error:
        field = ".".join(str(p) for p in error.path[1:]) or "the report"
        raise Refused(400, f"This progress report is not one the kit sends ({field}: {error.message.split(' ', 1)[-1]});"
                           " send only id, exercise, outcome, hint and at.") from None
    if report["exercise"] not in plan.EXERCISES:
        raise Refused(422, "There is no such exercise in this workshop: report one of the lessons' exercises.")
    if report["outcome"] not in OUTCOMES:
        raise Refused(422, f"A report's outcome is one of {', '.join(OUTCOMES)}.")
    hint = report.get("hint")
    if hint is not None and (report["outcome"] != FAILED or not re.match(HINT_KEY, hint)):
        raise Refused(422, "A report's hint is the key of a failed check's hint (lowercase words and hyphens), "
                           "nothing else.")
    at = report["at"]
    if not received - SKEW_S <= at <= received + 60:
        raise Refused(422, "This report's time is not today's: check the laptop's clock.")
    return {"id": report["id"], "kit": kit_id, "exercise": report["exercise"], "outcome": report["outcome"],
            "hint": hint, "at": min(float(at), received), "received": received}


@dataclasses.dataclass
class Cell:
    """Where one participant stands on one exercise: their latest outcome, and since when they fail."""

    status: str = NOT_DONE  # passed, failed or not-done, the latest outcome
    failing_since: float | None = None  # the first failure of the current run of failures
    hint: str | None = None  # the latest failure's hint key
    repeats: int = 0  # failures in a row with that same hint
    failures: int = 0
    last: float = 0.0


class Progress:
    """Every report of the room folded, in the order received: ``cells[kit][exercise]``."""

    def __init__(self) -> None:
        self.cells: dict[str, dict[str, Cell]] = {}
        self.seen: set[tuple[str, str]] = set()  # (kit, report id): a report sent twice counts once
        self.first: float | None = None  # the day's first report: the start of the room's pace

    def known(self, kit_id: str, report_id: str) -> bool:
        return (kit_id, report_id) in self.seen

    def apply(self, record: dict) -> None:
        key = (record["kit"], record["id"])
        if key in self.seen:
            return
        self.seen.add(key)
        at = record["at"]
        self.first = at if self.first is None else min(self.first, at)
        cell = self.cells.setdefault(record["kit"], {}).setdefault(record["exercise"], Cell())
        outcome = record["outcome"]
        if outcome == PASSED:
            cell.status, cell.failing_since, cell.hint, cell.repeats = PASSED, None, None, 0
        elif outcome == FAILED:
            if cell.status != FAILED:
                cell.failing_since, cell.repeats = at, 0
            cell.repeats = cell.repeats + 1 if record["hint"] == cell.hint else 1
            cell.status, cell.hint = FAILED, record["hint"]
            cell.failures += 1
        cell.last = max(cell.last, at)

    def fold(self, lines: Iterable[bytes]) -> Progress:
        for line in lines:
            self.apply(json.loads(line))
        return self

    def of(self, kit_id: str) -> dict[str, dict]:
        """One participant's own progress (what their kit may read back), by exercise."""
        return {name: dataclasses.asdict(cell) for name, cell in self.cells.get(kit_id, {}).items()}


def grid(progress: Progress, names: dict[str, str], now: float) -> dict[str, Any]:
    """The instructor's view at ``now``: participants (who shared) by exercise, who is stuck, how many
    passed each exercise, and the room's pace against the plan. ``names`` maps kit ids to display names."""
    kits = sorted(progress.cells, key=lambda kit: (names.get(kit, "").casefold(), kit))
    rows = [{"name": names.get(kit, "?"), "cells": {name: _shown(cell) for name, cell in progress.cells[kit].items()}}
            for kit in kits]
    stuck = sorted(({"name": names.get(kit, "?"), "exercise": name, "minutes": int((now - cell.failing_since) // 60),
                     "hint": cell.hint, "repeats": cell.repeats, "failures": cell.failures}
                    for kit in kits for name, cell in progress.cells[kit].items()
                    if cell.status == FAILED and now - cell.failing_since >= STUCK_S),
                   key=lambda row: (-row["minutes"], row["name"].casefold(), row["exercise"]))
    exercises = [{"name": name, "lesson": plan.LESSON_OF[name],
                  "passed": sum(progress.cells[kit].get(name, Cell()).status == PASSED for kit in kits),
                  "failing": sum(progress.cells[kit].get(name, Cell()).status == FAILED for kit in kits)}
                 for name in plan.EXERCISES]
    return {"participants": rows, "exercises": exercises, "stuck": stuck, "pace": pace(progress, now)}


def _shown(cell: Cell) -> str:
    return {PASSED: "passed", FAILED: "failing"}.get(cell.status, "started")


def pace(progress: Progress, now: float) -> dict[str, Any]:
    """The room against the plan: minutes since the day's first report, the lesson the plan has the room in,
    the exercise the median participant has passed last, and how far ahead (+) or behind (-) that is."""
    if progress.first is None:
        return {"elapsed": 0, "planned_lesson": None, "median_exercise": None, "ahead": None, "lessons": []}
    elapsed = max(0.0, (now - progress.first) / 60)
    furthest = []
    for cells in progress.cells.values():
        done = [plan.EXERCISES.index(name) for name, cell in cells.items() if cell.status == PASSED]
        furthest.append(max(done) if done else -1)
    middle = int(statistics.median_low(furthest)) if furthest else -1
    exercise = plan.EXERCISES[middle] if middle >= 0 else None
    lesson = plan.lesson_at(elapsed)
    ahead = round(plan.planned_by(exercise) - elapsed) if exercise else None
    lessons, end = [], 0
    for each in plan.PLAN:
        end += each.minutes
        finished = sum(all(cells.get(name, Cell()).status == PASSED for name in each.exercises)
                       for cells in progress.cells.values()) if each.exercises else None
        lessons.append({"lesson": each.number, "title": each.title, "minutes": each.minutes, "planned_end": end,
                        "finished": finished})
    return {"elapsed": round(elapsed), "planned_lesson": {"lesson": lesson.number, "title": lesson.title},
            "median_exercise": exercise, "ahead": ahead, "lessons": lessons}


def report_csv(view: dict[str, Any]) -> str:
    """The grid as CSV for the end of the day: one row per participant, one column per exercise."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["participant", *plan.EXERCISES, "passed"])
    for row in view["participants"]:
        cells = [row["cells"].get(name, "not started") for name in plan.EXERCISES]
        writer.writerow([spreadsheet_safe(row["name"]), *cells, cells.count("passed")])
    writer.writerow(["passed", *(exercise["passed"] for exercise in view["exercises"]), ""])
    return out.getvalue()


def spreadsheet_safe(text: str) -> str:
    """A name as data in a spreadsheet: one that starts like a formula (= + - @) gets a leading quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
