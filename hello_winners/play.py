"""The whole workshop in one go: deploy, put the recorded day on the stream, let the consumer drain it,
ask the winner API, and print both leaderboards.

The same steps run on both targets. Only "wait until the consumer has caught up" differs: on the
embedded target the local runtime knows; on real AWS the kit waits until the consumer has counted
every purchase that was put.
"""

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

from . import analysis, aws, deploy, eventlog, events, stream, tables
from .errors import DeployError, EventError

WORKSHOP_DAY = Path(__file__).resolve().parent.parent / "data" / "workshop-day.jsonl"
ROLES = ("merchant", "photographer")


def play(target=None, stage=None, log=WORKSHOP_DAY, fresh=False, report=print, progress=True):
    """Run the workshop on ``log``; returns the leaderboards as the winner API gave them."""
    settings = aws.settings(target, stage)
    log = Path(log)
    if not log.is_file():
        raise DeployError(f"the event log {log} does not exist: pass --log with a JSONL file of events")
    if fresh:
        teardown(settings, report)
    outputs = deploy.deploy(settings.target, settings.stage, report=report)
    clients = deploy.clients(settings.target)
    held = _events_on(clients["kinesis"], outputs.stream)
    if held:
        report(f"the stream {outputs.stream} already holds {held} events: not putting {log.name} again, which would "
               "count it twice. Showing its winners; `hello-winners play --fresh` starts over.")
    else:
        day = list(eventlog.read_log(log))
        report(f"putting {len(day)} events of {log.name} on {outputs.stream}")
        stream.put_events(clients["kinesis"], outputs.stream, day, progress=progress)
    wait_until_consumed(settings.target, clients, outputs, report)
    boards = {role: _get(f"{outputs.api_url}/scores?role={role}&limit=100")["scores"] for role in ROLES}
    report(leaderboard_text(boards))
    report(_against_recorded(boards, log))
    report(f"leaderboard page: {outputs.api_url}/")
    if settings.target == aws.EMBEDDED:
        report("the embedded AWS keeps running for the notebooks; `hello-winners server stop` stops it")
    return boards


def teardown(settings, report=print):
    """Delete everything of the stage (and, on the embedded target, stop running its functions)."""
    from .deploy import teardown as sweeper

    clients = deploy.clients(settings.target)
    report(f"tearing down stage {settings.stage} on {settings.target}")
    removed = sweeper.teardown(clients, settings.prefix, settings.stage, report=report)
    if settings.target == aws.EMBEDDED:
        from . import local_lambda

        local_lambda.sync()
    return removed


def wait_until_consumed(target, clients, outputs, report=print, timeout_s=600):
    """Block until the consumer has processed what is on the stream."""
    if target == aws.EMBEDDED:
        from . import local_lambda

        state = local_lambda.drain(timeout_s)
        report(f"the consumer caught up: {sum(s['records'] for s in state['shards'])} records in "
               f"{sum(s['batches'] for s in state['shards'])} batches")
        return
    expected = sum(1 for _, _, e in stream.read_stream(clients["kinesis"], outputs.stream)
                   if _is_purchase(e))
    deadline = time.monotonic() + timeout_s
    while True:
        counted = analysis.read_contributions(clients["dynamodb"], outputs.tables[tables.CONTRIBUTIONS])["purchases"].sum()
        if counted >= expected:
            report(f"the consumer counted all {expected} purchases")
            return
        if time.monotonic() > deadline:
            raise DeployError(f"the consumer counted {counted} of {expected} purchases after {timeout_s} s: "
                              "look at its CloudWatch logs, then run play again")
        time.sleep(5)


def leaderboard_text(boards, top=10):
    """Both leaderboards as text, the winners (everyone sharing the top score) marked with a star."""
    lines = []
    for role in ROLES:
        board = boards[role]
        best = board[0]["score"] if board else None
        lines += ["", f"{role.upper()}S" + ("" if board else ": nobody has sold anything yet")]
        for rank, entry in enumerate(board[:top], 1):
            mark = "*" if entry["score"] == best else " "
            lines.append(f" {mark} {rank:>2}. {entry['name']:<20} {entry['score']:>4}  {entry['userId']}")
        if len(board) > top:
            lines.append(f"      ... and {len(board) - top} more")
    lines.append("\n* winner")
    return "\n".join(lines)


def _against_recorded(boards, log):
    """Whether the API's rankings match the expected winners recorded beside the log, when there are some."""
    recorded = log.with_name(log.name.removesuffix(".jsonl") + ".winners.json")
    if not recorded.is_file():
        return f"(no {recorded.name} beside the log to compare with)"
    expected = json.loads(recorded.read_text())
    if all(_ranked(boards[role]) == _ranked(expected[role][:100]) for role in ROLES):
        return f"the rankings match the expected winners in {recorded.name}"
    return f"the rankings DIFFER from the expected winners in {recorded.name}: the consumer or the log changed"


def _ranked(board):
    return [(entry["userId"], entry["score"]) for entry in board]


def _is_purchase(event):
    try:
        return events.kind(events.validate(event)) == "purchase"
    except EventError:
        return False


def _events_on(kinesis, stream_name):
    """How many records the stream holds (0 for a fresh stage)."""
    return sum(1 for _ in stream.read_records(kinesis, stream_name))


def _get(url, attempts=5):
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            raise DeployError(f"the winner API answered {error.code} for {url}: {error.read()[:200]!r}") from None
        except OSError:
            if attempt == attempts - 1:
                raise DeployError(f"the winner API at {url} does not answer: run `hello-winners status`") from None
            time.sleep(2)
