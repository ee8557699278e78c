"""Where each lesson starts: the first cell of every notebook calls ``lessons.setup(N)``.

``setup`` reaches the target (the embedded AWS, started when needed, or real AWS when
``HELLO_WINNERS_TARGET=aws``) and brings the stage to where lesson N starts, reusing what exists, so a
participant who fell behind or skipped ahead can open any lesson in a fresh kernel:

- 0, 1: nothing but the target (lesson 1 creates the stream itself);
- 2: nothing deployed (lesson 2 works in its own sandbox tables);
- 3: the stream with the workshop day on it, and the tables;
- 4: everything deployed and the stream consumed;
- 5: the sandbox tables of its experiments;
- 6: the recorded day (data/workshop-day.jsonl) and the tables;
- 7: something to tear down.

The rest are the small tools the lessons call: the workshop day as Lambda would deliver it (with
redeliveries when asked), a local stand-in for Lambda's retries, sandbox tables, and summaries of the
tables that do not depend on what else a participant put on their stream.
"""

import dataclasses
import random

import pandas as pd
from botocore.exceptions import ClientError

from . import analysis, aws, deploy, eventlog, events, play, reference, simulator, stream, tables
from .deploy import executor, models, planner, teardown
from .errors import ConfigError
from .delivery import lambda_batches

__all__ = [
    "LESSONS",
    "FailingOnce",
    "Stage",
    "day_summary",
    "deliver",
    "ensure_stream",
    "lambda_batches",
    "put_workshop_day",
    "redelivered",
    "sandbox",
    "scores_frame",
    "setup",
    "small_game",
    "stage",
    "stream_frame",
    "versus_reference",
    "winners_text",
    "workshop_day",
]

LESSONS = {
    0: "set-up and orientation", 1: "the stream", 2: "write the consumer", 3: "deploy it to Lambda",
    4: "who is winning", 5: "delivery for real", 6: "extra credit", 7: "clean up",
}


@dataclasses.dataclass
class Stage:
    """The participant's stage: its settings, one client per service, its names and ARNs."""

    settings: aws.Settings
    clients: dict
    names: object  # deploy.models.Names

    @property
    def prefix(self):
        return self.settings.prefix

    @property
    def stream(self):
        return self.names.stream

    @property
    def tables(self):
        """Environment variable -> table name, as the consumer and the API read them."""
        return self.names.tables

    def outputs(self):
        """What is deployed (deploy.Outputs): names, ARNs and the API's URL."""
        return deploy.outputs(self.settings, self.clients, self.names)


def stage(target=None, stage_name=None):
    """The stage on the target, reached (and on the embedded target, the server started)."""
    settings = aws.settings(target, stage_name)
    with aws.friendly_errors():
        clients = deploy.clients(settings.target)
        return Stage(settings, clients, deploy.names(settings, clients))


def setup(lesson, target=None, stage_name=None, report=print):
    """Bring the stage to where ``lesson`` starts, reusing what exists; returns the Stage."""
    if lesson not in LESSONS:
        raise ConfigError(f"there is no lesson {lesson!r}: the lessons are numbered 0 to {max(LESSONS)}")
    here = stage(target, stage_name)
    with aws.friendly_errors():
        done = _STEPS[lesson](here)
    report(f"lesson {lesson} ({LESSONS[lesson]}) on {here.settings.target}, stage {here.settings.stage}: {done}")
    return here


def _target_only(here):
    where = aws.endpoint(here.settings.target) or f"AWS {here.clients['kinesis'].meta.region_name}"
    return f"ready ({where})"


def _stream_and_tables(here):
    created = ensure_stream(here)
    put = put_workshop_day(here)
    tables.create(here.clients["dynamodb"], here.prefix, here.settings.tags)
    return (f"stream {'created' if created else 'reused'}, "
            f"{f'{put} events of the workshop day put' if put else 'the workshop day already on it'}, tables ready")


def _deployed_and_drained(here):
    first = _stream_and_tables(here)
    steps = []
    outputs = deploy.deploy(here.settings.target, here.settings.stage, report=steps.append)
    play.wait_until_consumed(here.settings.target, here.clients, outputs, report=steps.append)
    return f"{first}, {steps[0].split(': ')[-1]} to deploy, the stream consumed"


def _sandboxes(here):
    for name in ("naive", "once", "kit"):
        tables.create(here.clients["dynamodb"], f"{here.prefix}{name}-", here.settings.tags)
    return "sandbox tables naive, once and kit ready"


def _log_and_tables(here):
    if not play.WORKSHOP_DAY.is_file():
        raise ConfigError(f"the recorded day {play.WORKSHOP_DAY} is missing: restore data/ from the repository")
    tables.create(here.clients["dynamodb"], here.prefix, here.settings.tags)
    return f"the recorded day ({play.WORKSHOP_DAY.name}) and the tables ready"


def _something_to_remove(here):
    found = teardown.inventory(here.clients, here.prefix, here.settings.stage)
    if found:
        return f"{len(found)} resources to tear down"
    ensure_stream(here)
    tables.create(here.clients["dynamodb"], here.prefix, here.settings.tags)
    return "nothing was left, so a stream and tables were created to tear down"


_STEPS = {0: _target_only, 1: _target_only, 2: _target_only, 3: _stream_and_tables, 4: _deployed_and_drained,
          5: _sandboxes, 6: _log_and_tables, 7: _something_to_remove}


# --- the stream ------------------------------------------------------------------------------------

def ensure_stream(here):
    """Create the stage's stream (tagged as the kit's) unless it exists; True when it was created.

    The deployment's own plan step for the stream, applied alone: lessons before the deploy need it.
    """
    desired = models.desired(here.names, here.settings.tags)
    calls = planner.stream(here.clients["kinesis"], desired)
    executor.execute(here.clients, calls, report=lambda line: None)
    return bool(calls)


def workshop_day():
    """The recorded workshop day's events, in stream order."""
    return list(eventlog.read_log(play.WORKSHOP_DAY))


def small_game(seed=5, participants=12):
    """A smaller game (the simulator, seeded): quick to replay many times, with the same tricky parts
    (photos after purchases, a second photo of a product). Page views are left out: a consumer that
    keeps score skips them."""
    return list(simulator.simulate(seed=seed, participants=participants, views_per_customer=0,
                                   category_views_per_customer=0))


def put_workshop_day(here, progress=False):
    """Put the recorded day on the stream unless it is there already; returns how many were put.

    Putting it twice would count every purchase twice, so the stream is read first.
    """
    day = workshop_day()
    first = events.encode(day[0])
    if any(data == first for _, _, data in stream.read_records(here.clients["kinesis"], here.stream)):
        return 0
    return stream.put_events(here.clients["kinesis"], here.stream, day, progress=progress)


def stream_frame(kinesis, stream_name):
    """Everything on a stream, one row per record: shard, sequence number, partition key, kind, product, who."""
    rows = []
    for shard, sequence, event in stream.read_stream(kinesis, stream_name):
        who = events.parse_origin(event.get("origin")) or (None, None)
        kind = events.KINDS.get(event.get("data", {}).get("schema"), "unknown")
        rows.append((shard, sequence, stream.partition_key(event), kind, event["data"].get("id"), who[1]))
    return pd.DataFrame(rows, columns=["shard", "sequenceNumber", "partitionKey", "kind", "productId", "name"])


# --- the day as Lambda delivers it -----------------------------------------------------------------

def redelivered(batches, share=0.3, seed=5):
    """At-least-once delivery: about ``share`` of the batches come twice (a retry after a timeout whose
    first attempt had in fact finished), seeded so the replay is the same every time."""
    rng = random.Random(seed)
    out = []
    for batch in batches:
        out.append(batch)
        if rng.random() < share:
            out.append(batch)
    return out


def deliver(batches, handler, dynamodb, table_names, max_attempts=10):
    """Run ``handler(batch, dynamodb, table_names)`` on each batch as Lambda's event source mapping
    would with ReportBatchItemFailures: a reported record and those after it are delivered again.

    Returns the number of retries.
    """
    retries = 0
    for batch in batches:
        pending = batch
        for _attempt in range(max_attempts):
            failures = (handler(pending, dynamodb, table_names) or {}).get("batchItemFailures", [])
            if not failures:
                break
            retries += 1
            start = min(int(f["itemIdentifier"]) for f in failures)
            pending = {"Records": [r for r in pending["Records"] if int(r["kinesis"]["sequenceNumber"]) >= start]}
        else:
            raise ConfigError(f"a batch still failed after {max_attempts} attempts: look at the handler's error")
    return retries


class FailingOnce:
    """A DynamoDB client whose ``nth`` call of ``method`` is throttled once, as a busy table would."""

    def __init__(self, client, method="transact_write_items", nth=3):
        self._client, self._method, self._left = client, method, nth
        self.throttled = 0

    def __getattr__(self, name):
        attribute = getattr(self._client, name)
        if name != self._method:
            return attribute

        def call(**params):
            self._left -= 1
            if self._left == 0:
                self.throttled += 1
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException",
                                             "Message": "Rate exceeded (throttled on purpose, for the lesson)"}}, name)
            return attribute(**params)
        return call


# --- tables ----------------------------------------------------------------------------------------

def sandbox(here, name):
    """Empty tables of the stage for an experiment, named ``<prefix><name>-...``; returns their names."""
    dynamodb = here.clients["dynamodb"]
    names = tables.create(dynamodb, f"{here.prefix}{name}-", here.settings.tags)
    for variable, table in names.items():
        key = tables.keys(variable)
        for page in dynamodb.get_paginator("scan").paginate(
                TableName=table, ProjectionExpression=", ".join(f"#k{i}" for i in range(len(key))),
                ExpressionAttributeNames={f"#k{i}": k for i, k in enumerate(key)}):
            for item in page["Items"]:
                dynamodb.delete_item(TableName=table, Key={k: item[k] for k in key})
    return names


def scores_frame(dynamodb, table_names):
    """The Scores table as analysis.read_scores gives it: role, userId, name, score."""
    return analysis.read_scores(dynamodb, table_names[tables.SCORES])


def versus_reference(scores, day):
    """Per contributor of the day: the table's score next to the reference score, where they differ."""
    expected = reference.winners(day)
    rows = [(role, e["userId"], e["name"], e["score"]) for role in expected for e in expected[role]]
    wanted = pd.DataFrame(rows, columns=["role", "userId", "name", "expected"])
    got = scores[["role", "userId", "score"]].astype({"role": "object", "userId": "object"})
    both = wanted.merge(got, on=["role", "userId"], how="outer").fillna({"expected": 0, "score": 0})
    both = both.astype({"expected": "int64", "score": "int64"})
    return both[both["expected"] != both["score"]].sort_values(["role", "userId"], ignore_index=True)


def winners_text(boards):
    """The leaders of each role in one line per role, as /scores returned them (ties all named)."""
    lines = []
    for role in play.ROLES:
        board = boards.get(role) or []
        top = [e for e in board if board and e["score"] == board[0]["score"]]
        lines.append(f"{role}: " + (", ".join(f"{e['name']} ({e['score']} sales)" for e in top) or "nobody yet"))
    return "\n".join(lines)


def day_summary(here):
    """Counts in the stage's tables of the workshop day's own products and people, with the reference's.

    Only the day's products and contributors are counted, so what a participant played themselves in
    lesson 1 does not change these lines.
    """
    day = workshop_day()
    frame = eventlog.to_frame(day)
    products = set(frame.loc[frame["kind"].isin(["create", "image", "purchase"]), "productId"])
    expected = reference.winners(day)
    dynamodb = here.clients["dynamodb"]
    contributions = analysis.read_contributions(dynamodb, here.tables[tables.CONTRIBUTIONS])
    mine = contributions[contributions["productId"].isin(products)]
    scores = scores_frame(dynamodb, here.tables)
    lines = [(f"Contributions: {len(mine)} of the day's {len(products)} products, "
             f"{int(mine['purchases'].sum())} purchases counted "
             f"(the day has {int((frame['kind'] == 'purchase').sum())})")]
    for role in play.ROLES:
        people = {e["userId"]: e["score"] for e in expected[role]}
        stored = scores[(scores["role"] == role) & scores["userId"].isin(list(people))]
        same = dict(zip(stored["userId"], stored["score"])) == people
        lines.append(f"Scores: {len(stored)} {role}s of the day with sales, every score as the reference's: {same}")
    return "\n".join(lines)
