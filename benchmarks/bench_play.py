"""`hello-winners play` on the embedded target: wall time, and how fast the local runtime drains a stream.

Each run uses a private state folder, so it starts its own moto server cold, as a participant's first
run does (a new role's propagation delay included, as participants meet it). ``play`` is timed in this
process, phase by phase, and README's command is also timed whole, in a new process each run: it pays
the interpreter's start, the imports and cold client caches, which in-process runs after the first do
not. The drain rate is measured separately on a larger simulated log: the events actually put before the
drain, divided by the seconds until the consumer has caught up. What bounds it is measured in the same
run, against the same server: the consumer in process, batch after batch as Lambda would deliver them to
fresh tables, with its DynamoDB calls counted, so the row says moto's cost per call and how close the
runtime comes. Both are measured with IAM enforcement on (the default) and off, alternating in one run,
so the price of enforcement is a ratio of figures taken side by side; each round of plays also runs
README's command, so that the in-process and the command's figures come from the same minutes.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = 3
PLAY_RUNS = 5  # play is short and the machines noisy: more runs for its median
IAM_ENV = "HELLO_WINNERS_IAM"  # read by the embedded server when it starts (hello_winners.embedded.strict)


def run(quick):
    rows = []
    runs = 1 if quick else RUNS
    play = _alternating(1 if quick else PLAY_RUNS, _play_once, then=_command_once)
    on, off = (statistics.median(p["total"] for p in play[s]) for s in ("on", "off"))
    rows.append({"name": "play, workshop day (2,134 events), cold server, IAM enforced", "figure": on,
                 "unit": "s (median)", "compared_with": "target < 5 s (issue 15): the README's main job"})
    for n, (phase, _) in enumerate(PHASES):
        seconds = statistics.median(p["phases"][n] for p in play["on"])
        rows.append({"name": f"  of which: {phase}", "figure": seconds, "unit": "s (median)",
                     "compared_with": f"{seconds / on:.0%} of the enforced play"})
    rows.append({"name": "play, the same, IAM enforcement off", "figure": off, "unit": "s (median)",
                 "compared_with": f"enforced / off = {on / off:.2f}"})
    command = statistics.median(play["then"])
    rows.append({"name": "`hello-winners play --stage bench`, as README runs it: a new process, cold server",
                 "figure": command, "unit": "s (median)",
                 "compared_with": f"target < 5 s; in process {on:.2f} s (new process - in process: "
                                  f"{command - on:+.2f} s)"})
    drain = _alternating(runs, lambda: _drain(2_000 if quick else 10_000))
    for setting in ("on", "off"):
        put, rate, alone, per_call = (statistics.median(d[k] for d in drain[setting])
                                      for k in ("events", "rate", "in_process", "ms_per_call"))
        rows.append({"name": f"drain rate, {put:,.0f} events put (seed 11), BatchSize 100, 2 shards, IAM "
                             + ("enforced" if setting == "on" else "enforcement off"),
                     "figure": rate, "unit": "events/s (median)",
                     "compared_with": f"bound: the consumer in process, same server, {alone:,.0f} events/s at "
                                      f"{per_call:.1f} ms per DynamoDB call; runtime / in process = {rate / alone:.2f}"})
    on, off = (statistics.median(d["rate"] for d in drain[s]) for s in ("on", "off"))
    rows[-1]["compared_with"] += f"; enforced / off = {on / off:.2f}"
    return rows


def _alternating(runs, measure, then=None):
    """``measure()`` with enforcement on and off in turn, then ``then()`` (enforced), so drift on a noisy machine
    hits them all alike."""
    figures = {"on": [], "off": [], "then": []}
    for _ in range(runs):
        for setting in ("on", "off"):
            os.environ[IAM_ENV] = "enforce" if setting == "on" else "off"
            try:
                figures[setting].append(measure())
            finally:
                os.environ.pop(IAM_ENV, None)
        if then:
            figures["then"].append(then())
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


# Where a cold play spends its time, from when play says each step: a phase ends when the first of
# play's report lines starting with its marker is said; the last runs to play's return.
PHASES = (
    ("server started, roles made, plan read", "deploying stage"),
    ("stream and tables made", "putting "),
    ("day put on the stream, as the new roles propagate", "  create the function"),
    ("rest of the roles' propagation (HELLO_WINNERS_ROLE_DELAY_S), functions made", "  connect the stream"),
    ("mapping and HTTP API made, runtime synced", "waiting for the consumer"),
    ("day drained", "the consumer caught up"),
    ("winner API asked, boards printed", None),
)


def _play_once():
    """Seconds of one cold play, and of each of its PHASES."""
    from hello_winners.workshop import play

    _private_state()
    said = []
    try:
        started = time.perf_counter()
        play.play(stage="bench", report=lambda line: said.append((time.perf_counter() - started, line)),
                  progress=False)
        total = time.perf_counter() - started
    finally:
        _stop()
    ends = [next(at for at, line in said if line.startswith(marker)) if marker else total for _, marker in PHASES]
    return {"total": total, "phases": [end - begin for begin, end in zip([0.0, *ends], ends)]}


def _command_once():
    """Wall seconds of the quick start's command in a new process: nothing imported, nothing cached, a cold server."""
    env = {**os.environ, "HELLO_WINNERS_STATE_DIR": tempfile.mkdtemp(prefix="hw-bench-command-")}
    hello_winners = [sys.executable, "-m", "hello_winners"]
    started = time.perf_counter()
    subprocess.run([*hello_winners, "play", "--stage", "bench"], env=env, check=True, capture_output=True)
    seconds = time.perf_counter() - started
    subprocess.run([*hello_winners, "server", "stop"], env=env, check=True, capture_output=True)
    return seconds


def _drain(count):
    """The runtime's drain rate of ``count`` simulated events at most, and the consumer's in process."""
    from hello_winners import deploy
    from hello_winners.embedded import runtime
    from hello_winners.game import simulator, stream

    _private_state()
    try:
        outputs = deploy.deploy(stage="drain", report=lambda line: None)
        participants = max(30, count // 40)
        events = list(simulator.simulate(seed=11, participants=participants))[:count]
        put = stream.put_events(deploy.clients(stage="drain")["kinesis"], outputs.stream, events)
        started = time.perf_counter()
        runtime.drain(timeout_s=1800)
        return {"events": put, "rate": put / (time.perf_counter() - started), **_in_process(events)}
    finally:
        _stop()


def _in_process(events):
    """The consumer run here on the same batches, into fresh tables of the same server: moto's own pace."""
    from hello_winners import deploy, targets
    from hello_winners.view import consumer, tables
    from hello_winners.view.delivery import lambda_batches

    settings = targets.settings(stage="inprocess")
    dynamodb = deploy.clients(stage=settings.stage)["dynamodb"]
    names = tables.create(dynamodb, settings.prefix, settings.tags)
    batches = lambda_batches(events, shards=2, batch_size=100)
    lines = []
    started = time.perf_counter()
    for batch in batches:
        consumer.process(batch, dynamodb, names, log=lines.append)
    seconds = time.perf_counter() - started
    return {"in_process": len(events) / seconds, "ms_per_call": 1000 * seconds / sum(line["calls"] for line in lines)}
