"""Wall time of the instructor run, and each lesson's time in the room estimated from it.

The run builds the solved notebooks and executes all eight top to bottom: what the README's test command
does through nbval, and what an instructor runs before a workshop (``.venv/bin/python -m
hello_winners.workshop.notebooks run``). It runs in a private state folder, so on a fresh embedded server
and a fresh stage, as on a clean clone; the server is stopped afterwards. Target: under 120 s on a 2-core
machine. One full run takes that long, so the figure is one run (quick: build only, plus lesson 0, the
kernel start and set-up every lesson pays).

Each lesson's room time (the room plan's column in docs/instructors.md, which each row is compared with)
is estimated from the run: the solved lesson's run time, reading its text at 150 words a minute, and each
exercise at 4 minutes to read its statement plus 1 minute per line of its reference solution's body,
plus the install for lesson 0, rounded up to 5 minutes.
"""

import contextlib
import math
import os
import re
import tempfile
import time
from pathlib import Path

import nbformat

from hello_winners import embedded
from hello_winners.embedded import runtime
from hello_winners.workshop import notebooks
from hello_winners.workshop.exercises import EXERCISES

TARGET_S = 120
WORDS_PER_MINUTE = 150
MINUTES_PER_EXERCISE, MINUTES_PER_LINE = 4, 1
INSTALL_MINUTES = 5  # lesson 0: the quick start's venv and pip install
GUIDE = Path(__file__).resolve().parents[1] / "docs" / "instructors.md"


@contextlib.contextmanager
def _private_state():
    saved = {k: os.environ.get(k) for k in ("HELLO_WINNERS_STATE_DIR", "HELLO_WINNERS_STAGE", "HELLO_WINNERS_TARGET")}
    with tempfile.TemporaryDirectory(prefix="bench-notebooks-") as folder:
        os.environ.update(HELLO_WINNERS_STATE_DIR=str(Path(folder) / "state"), HELLO_WINNERS_STAGE="bench",
                          AWS_DEFAULT_REGION="us-east-1")
        os.environ.pop("HELLO_WINNERS_TARGET", None)
        try:
            yield Path(folder)
        finally:
            runtime.stop()
            embedded.stop()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def room_minutes(lesson: Path, run_s: float) -> int:
    """The lesson's time in the room: its run, its reading, its exercises (and the install), rounded up to 5."""
    number = int(lesson.name[:2])
    cells = nbformat.read(lesson, as_version=4).cells
    words = sum(len(cell.source.split()) for cell in cells if cell.cell_type == "markdown")
    exercises = sum(MINUTES_PER_EXERCISE + MINUTES_PER_LINE * _body_lines(name) for name in EXERCISES.get(number, ()))
    minutes = run_s / 60 + words / WORDS_PER_MINUTE + exercises + (INSTALL_MINUTES if number == 0 else 0)
    return 5 * math.ceil(minutes / 5)


def _body_lines(name):
    """Lines of a reference solution after its signature and docstring, blank lines and comments left out."""
    source = notebooks.solution_source(name).splitlines()
    return sum(1 for line in source[notebooks._docstring_end(source):] if line.strip() and not line.strip().startswith("#"))


def _planned():
    """The room plan's minutes per lesson, as docs/instructors.md states them."""
    return {int(lesson): int(minutes) for lesson, minutes in
            re.findall(r"^\| (\d) [^|]+\|[^|]+\|[^|]+\| (\d+) min", GUIDE.read_text(encoding="utf-8"), re.MULTILINE)}


def run(quick: bool) -> list[dict]:
    with _private_state() as folder:
        started = time.perf_counter()
        notebooks.build_solved(folder / "solved")
        built = time.perf_counter() - started
        source = folder / "only-lesson-0"
        if quick:
            source.mkdir()
            (source / notebooks.participant_notebooks()[0].name).write_bytes(notebooks.participant_notebooks()[0].read_bytes())
        started = time.perf_counter()
        runs = notebooks.run_solved(folder / "executed", folder=source if quick else notebooks.NOTEBOOKS,
                                    report=lambda line: None)
        executed = time.perf_counter() - started
    failed = [f"{run.path.name}: {run.result}" for run in runs if run.failed or run.warned]
    if failed:
        raise RuntimeError("a solved lesson did not pass cleanly: " + "; ".join(failed))
    rows = [{"name": "build the solved notebooks", "figure": round(built, 2), "unit": "s",
             "compared_with": "a part of the 120 s target"}]
    if quick:
        rows.append({"name": "run lesson 0 (kernel start, embedded server start)", "figure": round(executed, 1),
                     "unit": "s", "compared_with": f"< {TARGET_S} s for all {len(notebooks.participant_notebooks())}"})
        return rows
    rows.append({"name": f"build and run all {len(runs)} solved notebooks", "figure": round(built + executed, 1),
                 "unit": "s", "compared_with": f"< {TARGET_S} s target (2 cores)"})
    planned = _planned()
    for lesson in runs:
        number = int(lesson.path.name[:2])
        rows.append({"name": f"run {lesson.path.name}", "figure": round(lesson.seconds, 1), "unit": "s",
                     "compared_with": "its share of the above"})
        rows.append({"name": f"lesson {number} in the room (estimate)", "figure": room_minutes(
                     notebooks.NOTEBOOKS / lesson.path.name, lesson.seconds), "unit": "min",
                     "compared_with": f"room plan: {planned.get(number, '?')} min"})
    return rows
