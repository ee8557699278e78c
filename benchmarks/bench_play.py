"""`hello-winners play` on the embedded target: wall time, and how fast the local runtime drains a stream.

Each run uses a private state folder, so it starts its own moto server cold, as a participant's first
run does. The drain rate is measured separately on a larger simulated log: events put before the
drain, divided by the seconds until the consumer has caught up.
"""

import os
import statistics
import tempfile
import time

RUNS = 3


def run(quick):
    rows = []
    play_times = [_play_once() for _ in range(1 if quick else RUNS)]
    rows.append({"name": "play, workshop day (2,134 events), cold server", "figure": statistics.median(play_times),
                 "unit": "s (median)", "compared_with": "README main job; no target set"})
    events = 2_000 if quick else 10_000
    rates = [_drain_rate(events) for _ in range(1 if quick else RUNS)]
    rows.append({"name": f"drain rate, {events:,} simulated events, BatchSize 100, 2 shards",
                 "figure": statistics.median(rates), "unit": "events/s (median)",
                 "compared_with": "bounded by moto: ~12 ms per DynamoDB UpdateItem"})
    return rows


def _private_state():
    folder = tempfile.mkdtemp(prefix="hw-bench-play-")
    os.environ["HELLO_WINNERS_STATE_DIR"] = folder
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
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

