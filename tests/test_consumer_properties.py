"""For all small logs, deliveries and failures: Scores equal the reference winners of the distinct records.

Hypothesis draws a log (a few products and contributors, purchases before and after them, conflicts,
creates that name nobody, page views, garbage), puts each product on a random shard, then plays a
random schedule: shards interleaved, random batch sizes, earlier records delivered again, and at a
random call of an invocation a crash, a throttle, a 5xx whose write landed, or throttling that never
ends (the failure is reported and Lambda restarts there). Finally every shard is drained.

moto answers a call in about 10 ms, too slow for this many examples, so the property runs on
``MemoryDynamoDB`` (hello_winners.workshop.doubles, the benchmark's instant stand-in); a separate test
plays the same kind of scenarios on moto and on it and requires identical answers and tables.
"""

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from properties import examples
from consumer_delivery import (
    SHARD_A,
    SHARD_B,
    Crash,
    Flaky,
    deliver,
    event_of,
    records_of,
    run_shard,
    score_names,
    scores,
)

from hello_winners.view import tables
from hello_winners.game.reference import winners
from hello_winners.workshop.doubles import MemoryDynamoDB


USERS = ["u0", "u1", "u2"]
KINDS = ["create", "image", "purchase", "purchase", "purchase", "nobody", "view", "garbage"]
FAULTS = [None, None, "crash-before", "crash-after", "throttle", "5xx-landed", "throttle-forever"]
NAMES = tables.table_names("hw-prop-")


@st.composite
def scenarios(draw):
    """(log, {shard: records}, schedule): a log, its shards, and who delivers what when, with which fault."""
    products = [f"p{i}" for i in range(draw(st.integers(1, 4)))]
    steps = draw(st.lists(st.tuples(st.sampled_from(KINDS), st.sampled_from(products), st.sampled_from(USERS)),
                          min_size=1, max_size=24))
    shard_of = {p: draw(st.sampled_from([SHARD_A, SHARD_B])) for p in products}
    log = [event_of(*step) for step in steps]
    per_shard = {SHARD_A: [], SHARD_B: []}
    for (_kind, product, _user), event in zip(steps, log):
        per_shard[shard_of[product]].append(event)
    shards = {shard: records_of(shard, items) for shard, items in per_shard.items() if items}
    schedule = draw(st.lists(st.tuples(
        st.sampled_from(sorted(shards)), st.integers(1, 6), st.integers(0, 3), st.sampled_from(FAULTS),
        st.integers(0, 8)), max_size=12))
    return log, shards, schedule


def _fault(kind, at):
    """An ``inject`` for Flaky: the fault happens at call ``at`` of the invocation."""
    def inject(n, _method, _request):
        if kind in ("crash-before", "crash-after") and n == at:
            return kind
        if kind == "throttle" and n == at:
            return ("ThrottlingException", 400, False)
        if kind == "5xx-landed" and n == at:
            return ("InternalServerError", 500, True)
        if kind == "throttle-forever" and n >= at:
            return ("ProvisionedThroughputExceededException", 400, False)
        return None
    return inject if kind else (lambda *_: None)


def play(client, shards, schedule):
    """Play the schedule, then drain every shard; the answers of every invocation, in order."""
    position, answers = dict.fromkeys(shards, 0), []
    for shard, size, rewind, fault, at in schedule:
        records = shards[shard]
        start = max(0, position[shard] - rewind)  # records delivered before come again
        batch = records[start:start + size]
        if not batch:
            continue
        try:
            failures = deliver(Flaky(client, _fault(fault, at)), NAMES, batch)["batchItemFailures"]
        except Crash:
            answers.append("crash")
            continue
        answers.append(failures)
        seqs = [r["kinesis"]["sequenceNumber"] for r in records]
        position[shard] = seqs.index(failures[0]["itemIdentifier"]) if failures else start + len(batch)
    for shard, records in shards.items():
        run_shard(client, NAMES, records[position[shard]:], batch_size=4)
    return answers


def expected(log):
    found = winners(e for e in log if isinstance(e, dict))
    return ({(w["userId"], role): w["score"] for role, rows in found.items() for w in rows},
            {(w["userId"], role): w["name"] for role, rows in found.items() for w in rows})


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_scores_equal_the_reference_winners_whatever_kinesis_and_lambda_do(scenario):
    log, shards, schedule = scenario
    store = MemoryDynamoDB(NAMES)
    play(store, shards, schedule)
    want_scores, want_names = expected(log)
    assert scores(store, NAMES) == want_scores
    assert score_names(store, NAMES) == want_names


def _tables_of(client):
    dump = {}
    for env, name in NAMES.items():
        items = client.scan(TableName=name)["Items"]
        for item in items:
            item.pop("rejectedAt", None)
        dump[env] = sorted(items, key=repr)
    return dump


@pytest.mark.slow
@settings(max_examples=examples(3), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_the_in_memory_stand_in_answers_as_moto_does(scenario):
    _log, shards, schedule = scenario
    store = MemoryDynamoDB(NAMES)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        tables.create(client, "hw-prop-")
        assert play(client, shards, schedule) == play(store, shards, schedule)
        assert _tables_of(client) == _tables_of(store)
