"""Wall time of the instructor run: build the solved notebooks and execute all eight top to bottom.

This is what the README's test command does through nbval, and what an instructor runs before a
workshop (``python -m hello_winners.workshop.notebooks run``). It runs in a private state folder, so on a fresh
embedded server and a fresh stage, as on a clean clone; the server is stopped afterwards. Target: under
120 s on a 2-core machine. One full run takes that long, so the figure is one run (quick: build only,
plus lesson 0, the kernel start and set-up every lesson pays).
"""

import contextlib
import os
import tempfile
import time
from pathlib import Path

from hello_winners import embedded
from hello_winners.embedded import runtime
from hello_winners.workshop import notebooks

TARGET_S = 120


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
        paths = notebooks.run_solved(folder / "executed", folder=source if quick else notebooks.NOTEBOOKS,
                                     report=lambda line: None)
        executed = time.perf_counter() - started
    rows = [{"name": "build the solved notebooks", "figure": round(built, 2), "unit": "s",
             "compared_with": "a part of the 120 s target"}]
    if quick:
        rows.append({"name": "run lesson 0 (kernel start, embedded server start)", "figure": round(executed, 1),
                     "unit": "s", "compared_with": f"< {TARGET_S} s for all {len(notebooks.participant_notebooks())}"})
    else:
        rows.append({"name": f"build and run all {len(paths)} solved notebooks", "figure": round(built + executed, 1),
                     "unit": "s", "compared_with": f"< {TARGET_S} s target (2 cores)"})
    return rows
