"""`hello-winners play` on the embedded target: wall time, and how fast the local runtime drains a stream.

Each run uses a private state folder, so it starts its own moto server cold, as a participant's first
run does (a new role's propagation delay included, as participants meet it). The drain rate is measured
separately on a larger simulated log: events put before the drain, divided by the seconds until the
consumer has caught up. Both are measured with IAM enforcement on (the default) and off, alternating in
one run, so the price of enforcement is a ratio of figures taken side by side.
"""

import os
import statistics
import tempfile
import time

RUNS = 3
IAM_ENV = "HELLO_WINNERS_IAM"  # read by the embedded server when it starts (hello_winners.embedded.strict)


def run(quick):
    rows = []
    runs = 1 if quick else RUNS
    play = _alternating(runs, _play_once)
    on, off = statistics.median(play["on"]), statistics.median(play["off"])
    rows.append({"name": "play, workshop day (2,134 events), cold server, IAM enforced", "figure": on,
                 "unit": "s (median)", "compared_with": "README main job; no target set"})
    rows.append({"name": "play, the same, IAM enforcement off", "figure": off, "unit": "s (median)",
                 "compared_with": f"enforced / off = {on / off:.2f}"})
    events = 2_000 if quick else 10_000
    drain = _alternating(runs, lambda: _drain_rate(events))
    on, off = statistics.median(drain["on"]), statistics.median(drain["off"])
    rows.append({"name": f"drain rate, {events:,} simulated events, BatchSize 100, 2 shards, IAM enforced",
                 "figure": on, "unit": "events/s (median)",
                 "compared_with": "bounded by moto: ~12 ms per DynamoDB UpdateItem"})
    rows.append({"name": "drain rate, the same, IAM enforcement off", "figure": off, "unit": "events/s (median)",
                 "compared_with": f"enforced / off = {on / off:.2f}"})
    return rows


def _alternating(runs, measure):
    """``measure()`` with enforcement on and off in turn, so drift on a noisy machine hits both alike."""
    figures = {"on": [], "off": []}
    for _ in range(runs):
        for setting in ("on", "off"):
            os.environ[IAM_ENV] = "enforce" if setting == "on" else "off"
            try:
                figures[setting].append(measure())
            finally:
                os.environ.pop(IAM_ENV, None)
    return figures


def _private_state():
    folder = tempfile.mkdtemp(prefix="hw-bench-play-")
    os.environ["HELLO_WINNERS_STATE_DIR"] = folder
    return folder


def _stop():
    from hello_winners import embedded
    from hello_winners.embedded import runtime

    runtime.stop()
    embedded.stop()


def _play_once():
    from hello_winners.workshop import play

    _private_state()
    try:
        started = time.perf_counter()
        play.play(stage="bench", report=lambda line: None, progress=False)
        return time.perf_counter() - started
    finally:
        _stop()


def _drain_rate(count):
    from hello_winners import deploy
    from hello_winners.embedded import runtime
    from hello_winners.game import simulator, stream

    _private_state()
    try:
        outputs = deploy.deploy(stage="drain", report=lambda line: None)
        participants = max(30, count // 40)
        events = list(simulator.simulate(seed=11, participants=participants))[:count]
        stream.put_events(deploy.clients()["kinesis"], outputs.stream, events)
        started = time.perf_counter()
        runtime.drain(timeout_s=1800)
        return len(events) / (time.perf_counter() - started)
    finally:
        _stop()

