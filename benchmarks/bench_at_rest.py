"""The embedded AWS at rest: what a participant's laptop spends while one stage sits deployed and idle.

A private state folder, a cold server, `play` once (one stage deployed, the day drained, its workers
warm), then a settling time like a participant reading between cells, during which the runtime's
periodic read of the Lambda API backs off. Over the measuring window: the CPU time of the moto server,
the local runtime and every process they started (workers), as a share of one core, and how fast the
server's log file grows. Both before issue 15 and after it were measured this way.
"""

import os
import tempfile
import time

import psutil

SETTLE_S = 60.0
WINDOW_S = 60.0


def run(quick):
    settle, window = (10.0, 15.0) if quick else (SETTLE_S, WINDOW_S)
    cpu_share, log_growth = _at_rest(settle, window)
    return [
        {"name": f"CPU at rest: moto server, local runtime and workers, one stage deployed ({window:.0f} s)",
         "figure": cpu_share, "unit": "% of a core",
         "compared_with": "target < 1% (issue 15); 6 to 7% before it"},
        {"name": "moto server log at rest", "figure": log_growth, "unit": "bytes / hour",
         "compared_with": "several MB an hour before issue 15 (a line per request)"},
    ]


def _at_rest(settle, window):
    """(CPU as % of one core, log bytes an hour) over ``window`` seconds after ``settle``."""
    from hello_winners import embedded
    from hello_winners.embedded import runtime, server
    from hello_winners.targets.state import state_dir
    from hello_winners.workshop import play

    os.environ["HELLO_WINNERS_STATE_DIR"] = tempfile.mkdtemp(prefix="hw-bench-rest-")
    try:
        play.play(stage="rest", report=lambda line: None, progress=False)
        roots = [psutil.Process(server.find().pid), psutil.Process(runtime.ensure_running().pid)]
        log = state_dir() / "moto-server.log"
        time.sleep(settle)
        before, size = _cpu_seconds(roots), log.stat().st_size
        time.sleep(window)
        after, grown = _cpu_seconds(roots), log.stat().st_size - size
    finally:
        runtime.stop()
        embedded.stop()
    spent = sum(after.get(pid, 0.0) - seconds for pid, seconds in before.items() if pid in after)
    spent += sum(seconds for pid, seconds in after.items() if pid not in before)  # started meanwhile
    return 100 * spent / window, grown * 3600 / window


def _cpu_seconds(roots):
    """CPU seconds (user and system) so far of each process under ``roots``, by pid."""
    spent = {}
    for root in roots:
        for process in [root, *root.children(recursive=True)]:
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            spent[process.pid] = times.user + times.system
    return spent
