"""The winner-view consumer against moto: exact tallies under everything Kinesis and Lambda really do.

Each semantic of the consumer's contract is its own test. A small Lambda stand-in (:func:`run_shard`)
delivers a shard's records in batches the way the event source mapping does: after a reported
failure it restarts from the lowest reported sequence number, after an exception it retries the
whole batch. :class:`Flaky` wraps the DynamoDB client to crash or fail at chosen calls.
"""

import base64
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from consumer_delivery import (
    SHARD_A,
    SHARD_B,
    Context,
    Crash,
    Flaky,
    contributions,
    create,
    deliver,
    image,
    purchase,
    records_of,
    rejects,
    run_shard,
    score_names,
    scores,
)

from hello_winners import events
from hello_winners.view import consumer, tables
from hello_winners.errors import ConfigError

EVENTS_DIR = Path(__file__).parent / "events"


@pytest.fixture(scope="module")
def moto_dynamodb():
    """One in-process moto DynamoDB for the module; each test gets tables of its own."""
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1"), itertools.count()


@pytest.fixture
def aws(moto_dynamodb):
    """(client, names of fresh tables, a function that makes more fresh tables)."""
    client, prefixes = moto_dynamodb

    def new_tables():
        return tables.create(client, f"hw-test{next(prefixes)}-")

    return client, new_tables(), new_tables


# One shard's story, used by the failure tests: purchases before and after the contributors are
# known, a conflicting create, a page view and a garbage record. Batch 1 is the first ten records;
# the retry may see two more (a retried batch can be longer).
STORY = [
    create("m1", "p1"), purchase("p1"), image("ph1", "p1"), purchase("p2"), create("m1", "p2"),
    image("ph2", "p2"), purchase("p1"), purchase("p2"), create("m2", "p1"), b"\x00garbage",
    purchase("p1"), purchase("p2"),
]
STORY_SCORES = {("m1", "merchant"): 6, ("ph1", "photographer"): 3, ("ph2", "photographer"): 3}
STORY_FIRST_10 = {("m1", "merchant"): 4, ("ph1", "photographer"): 2, ("ph2", "photographer"): 2}
STORY_PRODUCTS = {
    "p1": {"productId": "p1", "merchant": "m1", "merchantName": "M1", "photographer": "ph1",
           "photographerName": "PH1", "purchases": 3},
    "p2": {"productId": "p2", "merchant": "m1", "merchantName": "M1", "photographer": "ph2",
           "photographerName": "PH2", "purchases": 3},
}


def _calls_of_story(client, names):
    counter = Flaky(client, lambda *_: None)
    deliver(counter, names, records_of(SHARD_A, STORY[:10]))
    return counter.calls


# --- the Lambda contract ----------------------------------------------------------------------


def test_handler_takes_the_lambda_kinesis_event_from_a_file(aws, monkeypatch, capsys):
    client, names, _new = aws
    monkeypatch.setattr(consumer, "_client", None)
    for env, name in names.items():
        monkeypatch.setenv(env, name)
    event = json.loads((EVENTS_DIR / "kinesis_batch.json").read_text())
    assert consumer.handler(event, Context()) == {"batchItemFailures": []}
    assert scores(client, names) == {("amzn1.account.AH2EXAMPLEMERCHANT", "merchant"): 2,
                                     ("amzn1.account.AH2EXAMPLEPHOTOG", "photographer"): 2}
    assert score_names(client, names)[("amzn1.account.AH2EXAMPLEMERCHANT", "merchant")] == "Erik"
    line = json.loads(capsys.readouterr().out.strip())
    assert line["records"] == 5 and line["applied"] == 4 and line["ignored"] == 1 and line["writeUnits"] > 0


def test_handler_creates_its_client_once_per_process(aws, monkeypatch):
    _client, names, _new = aws
    monkeypatch.setattr(consumer, "_client", None)
    for env, name in names.items():
        monkeypatch.setenv(env, name)
    event = json.loads((EVENTS_DIR / "kinesis_batch.json").read_text())
    consumer.handler(event, Context())
    first = consumer._client
    consumer.handler(event, Context())
    assert consumer._client is first is not None


@pytest.mark.parametrize("in_lambda", [True, False])
def test_in_lambda_the_init_makes_the_client_and_elsewhere_an_import_needs_no_aws_setting(in_lambda, tmp_path):
    """Both handlers: in Lambda the first batch or request finds the client made; a notebook's import needs no region."""
    env = {"PATH": os.environ.get("PATH", ""), "AWS_CONFIG_FILE": str(tmp_path / "none"), "HOME": str(tmp_path)}
    if in_lambda:
        env |= {"AWS_LAMBDA_FUNCTION_NAME": "hw-test-winner-consumer", "AWS_REGION": "eu-west-1",
                "AWS_DEFAULT_REGION": "eu-west-1"}  # Lambda sets both
    made = subprocess.run(
        [sys.executable, "-c", "from hello_winners.view import api, consumer\n"
                               "print([m._client and m._client.meta.region_name for m in (api, consumer)])"],
        env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert made == ("['eu-west-1', 'eu-west-1']" if in_lambda else "[None, None]")


def test_handler_without_table_names_says_which_variable_is_missing(monkeypatch):
    monkeypatch.delenv("TABLE_SCORES_NAME", raising=False)
    with pytest.raises(ConfigError, match="TABLE_SCORES_NAME"):
        consumer.handler({"Records": []}, Context())


def test_an_empty_batch_does_nothing(aws):
    client, names, _new = aws
    assert deliver(client, names, []) == {"batchItemFailures": []}


def test_one_structured_log_line_per_batch(aws):
    client, names, _new = aws
    lines = []
    records = records_of(SHARD_A, [create("m1", "p1"), purchase("p1"), events.product_view("c", "C", "p1"),
                                   events.category_view("c", "C", "Tops"), b"nope"])
    deliver(client, names, records, log=lines.append)
    deliver(client, names, records, log=lines.append)
    first, again = lines
    assert json.loads(json.dumps(first)) == first
    assert (first["records"], first["applied"], first["rejected"], first["ignored"], first["failed"]) == (5, 2, 1, 2, 0)
    assert first["shardId"] == SHARD_A and first["duplicatesSkipped"] == 0
    # New merchant score item: 1 unit + 1 index put; product: 1; reject: 1.
    assert first["writeUnits"] == 4
    assert (again["applied"], again["duplicatesSkipped"], again["rejected"]) == (0, 2, 1)
    assert again["writeUnits"] == 1  # only the reject is put again


# --- the game's rules -------------------------------------------------------------------------


def test_purchases_before_the_create_or_image_count_once_they_arrive(aws):
    client, names, _new = aws
    run_shard(client, names, records_of(SHARD_A, [purchase("p1"), purchase("p1")]), batch_size=1)
    assert scores(client, names) == {}
    assert contributions(client, names)["p1"]["purchases"] == 2
    run_shard(client, names, records_of(SHARD_A, [create("m1", "p1"), purchase("p1"), image("ph1", "p1")], start=2),
              batch_size=1)
    assert scores(client, names) == {("m1", "merchant"): 3, ("ph1", "photographer"): 3}


def test_a_contributor_adds_up_over_products_and_shards(aws):
    client, names, _new = aws
    deliver(client, names, records_of(SHARD_A, [create("m1", "p1"), purchase("p1")]))
    deliver(client, names, records_of(SHARD_B, [create("m1", "p2"), purchase("p2"), purchase("p2")]))
    assert scores(client, names) == {("m1", "merchant"): 3}


def test_page_and_category_views_change_nothing(aws):
    client, names, _new = aws
    records = records_of(SHARD_A, [events.product_view("c", "C", "p1"), events.category_view("c", "C", "Tops")])
    assert deliver(client, names, records) == {"batchItemFailures": []}
    assert scores(client, names) == {} and contributions(client, names) == {} and rejects(client, names) == {}


def test_egress_envelopes_are_accepted(aws):
    client, names, _new = aws
    event = dict(purchase("p1"), schema=events.ENVELOPE_EGRESS, eventId="shardId-000000000000:1", timeIngest="2017-06-13T16:01:02.003Z",
                 timeProcess="2017-06-13T16:01:02.103Z")
    deliver(client, names, records_of(SHARD_A, [create("m1", "p1"), event]))
    assert scores(client, names) == {("m1", "merchant"): 1}


# --- redelivery, retries, crashes ------------------------------------------------------------


def test_a_record_redelivered_in_a_later_batch_counts_once(aws):
    client, names, _new = aws
    records = records_of(SHARD_A, STORY)
    deliver(client, names, records[:6])
    deliver(client, names, records[3:10])
    deliver(client, names, records[0:12])
    deliver(client, names, records[11:12] + records[11:12])
    assert scores(client, names) == STORY_SCORES
    assert contributions(client, names) == STORY_PRODUCTS


def test_a_batch_retried_from_a_reported_failure_ends_exact(aws):
    client, names, _new = aws
    records = records_of(SHARD_A, STORY)

    def throttle_p2_product(_n, method, request):
        if method == "update_item" and request["Key"].get("productId", {}).get("S") == "p2":
            return ("ProvisionedThroughputExceededException", 400, False)

    flaky = Flaky(client, throttle_p2_product)
    response = deliver(flaky, names, records[:10])
    # p2's first record is the purchase at index 3: Lambda must restart there.
    assert response == {"batchItemFailures": [{"itemIdentifier": records[3]["kinesis"]["sequenceNumber"]}]}
    assert scores(client, names) == STORY_FIRST_10  # its scores landed before its product write failed
    run_shard(client, names, records[3:], batch_size=10)
    assert scores(client, names) == STORY_SCORES
    assert contributions(client, names) == STORY_PRODUCTS


def test_a_failed_score_write_fails_every_product_it_came_from(aws):
    client, names, _new = aws
    records = records_of(SHARD_A, STORY)

    def throttle_ph2(_n, method, request):
        if method == "update_item" and request["Key"].get("userId", {}).get("S") == "ph2":
            return ("ThrottlingException", 400, False)

    response = deliver(Flaky(client, throttle_ph2), names, records[:10])
    assert response == {"batchItemFailures": [{"itemIdentifier": records[3]["kinesis"]["sequenceNumber"]}]}
    assert "p2" not in contributions(client, names)
    run_shard(client, names, records[3:], batch_size=10)
    assert scores(client, names) == STORY_SCORES


def test_a_failed_reject_write_is_reported_and_retried(aws):
    client, names, _new = aws
    records = records_of(SHARD_A, STORY)

    def throttle_rejects(_n, method, _request):
        return ("ProvisionedThroughputExceededException", 400, False) if method == "batch_write_item" else None

    response = deliver(Flaky(client, throttle_rejects), names, records[:10])
    # The conflicting create belongs to p1, whose first record is the batch's first.
    assert response == {"batchItemFailures": [{"itemIdentifier": records[0]["kinesis"]["sequenceNumber"]}]}
    assert "p1" not in contributions(client, names)
    run_shard(client, names, records, batch_size=10)
    assert scores(client, names) == STORY_SCORES
    assert set(rejects(client, names)) == {records[8]["eventID"], records[9]["eventID"]}


def test_a_batch_retried_whole_after_the_function_raised_ends_exact(aws):
    client, names, _new = aws
    records = records_of(SHARD_A, STORY)
    flaky = Flaky(client, lambda n, _m, _r: "crash-after" if n == 4 else None)
    run_shard(flaky, names, records, batch_size=10)
    assert scores(client, names) == STORY_SCORES
    assert contributions(client, names) == STORY_PRODUCTS


@pytest.mark.parametrize("when", ["crash-before", "crash-after"])
def test_dying_between_any_two_calls_then_retrying_ends_exact(aws, when):
    client, names, new_tables = aws
    calls = _calls_of_story(client, names)
    assert calls >= 7
    for crash_at in range(calls):
        names = new_tables()
        records = records_of(SHARD_A, STORY)
        flaky = Flaky(client, lambda n, _m, _r, at=crash_at: when if n == at else None)
        with pytest.raises(Crash):
            deliver(flaky, names, records[:10])
        # Lambda retries the batch; by then two more records may have arrived.
        assert deliver(client, names, records) == {"batchItemFailures": []}
        assert scores(client, names) == STORY_SCORES, f"{when} call {crash_at}"
        assert contributions(client, names) == STORY_PRODUCTS, f"{when} call {crash_at}"
        assert len(rejects(client, names)) == 2


@pytest.mark.parametrize("error", [
    ("ThrottlingException", 400, False),
    ("InternalServerError", 500, False),
    ("ServiceUnavailable", 503, True),  # the write landed, the answer was lost
])
def test_throttling_or_5xx_on_any_call_is_retried_within_the_invocation(aws, error):
    client, names, new_tables = aws
    calls = _calls_of_story(client, names)
    for fail_at in range(calls):
        names, slept = new_tables(), []
        flaky = Flaky(client, lambda n, _m, _r, at=fail_at: error if n == at else None)
        assert deliver(flaky, names, records_of(SHARD_A, STORY)[:10], sleep=slept.append) == {"batchItemFailures": []}
        assert scores(client, names) == STORY_FIRST_10, f"{error} on call {fail_at}"
        assert len(slept) == 1


def test_with_no_time_left_the_batch_is_handed_back_untouched(aws):
    client, names, _new = aws
    records = records_of(SHARD_A, STORY)
    response = deliver(client, names, records[:10], context=Context(remaining_ms=1000))
    assert response == {"batchItemFailures": [{"itemIdentifier": records[0]["kinesis"]["sequenceNumber"]}]}
    assert scores(client, names) == {}
    run_shard(client, names, records, batch_size=10)
    assert scores(client, names) == STORY_SCORES


def test_errors_that_are_not_transient_are_raised(aws):
    client, names, _new = aws
    names = dict(names, TABLE_SCORES_NAME="no-such-table")
    with pytest.raises(ClientError, match="ResourceNotFound"):
        deliver(client, names, records_of(SHARD_A, STORY)[:10])


def test_two_shards_processed_interleaved_end_exact(aws):
    client, names, _new = aws
    shard_a = records_of(SHARD_A, [create("m1", "p1"), purchase("p1"), image("ph1", "p1"), purchase("p1"),
                                   purchase("p1"), purchase("p1")])
    shard_b = records_of(SHARD_B, [purchase("p9"), create("m1", "p9"), image("ph1", "p9"), purchase("p9"),
                                   create("m2", "p8"), purchase("p8")])
    for batch in (shard_a[:2], shard_b[:3], shard_a[2:4], shard_b[3:], shard_a[:5], shard_a[4:], shard_b[1:4]):
        deliver(client, names, batch)
    assert scores(client, names) == {("m1", "merchant"): 6, ("ph1", "photographer"): 6, ("m2", "merchant"): 1}


# --- rejects ----------------------------------------------------------------------------------


def test_every_kind_of_bad_record_lands_in_rejects_with_its_reason(aws):
    client, names, _new = aws
    garbage = json.loads((EVENTS_DIR / "kinesis_garbage.json").read_text())["Records"]
    nobody = dict(create("m1", "p5"), origin="nobody")
    nobody_image = dict(image("ph1", "p5"), origin="hello-retail/product-producer-photographer//x")
    good = records_of(SHARD_B, [create("m1", "p5"), nobody, nobody_image, create("m1", "p5"), create("m2", "p5"),
                                image("ph1", "p5"), image("ph2", "p5")], start=100)
    assert deliver(client, names, garbage) == {"batchItemFailures": []}
    assert deliver(client, names, good) == {"batchItemFailures": []}
    found = rejects(client, names)
    reasons = {event_id: item["reason"].split(":")[0] for event_id, item in found.items()}
    assert [reasons[r["eventID"]] for r in garbage] == ["bad-base64", "not-json", "not-json", "not-json",
                                                          "schema", "unknown-schema", "schema"]
    assert [reasons.get(r["eventID"]) for r in good] == [None, "no-origin", "no-origin", "conflict", "conflict",
                                                         None, "conflict"]
    assert "the same merchant" in found[good[3]["eventID"]]["reason"]
    assert "another merchant (m2)" in found[good[4]["eventID"]]["reason"]
    item = found[garbage[1]["eventID"]]
    assert item["payloadEncoding"] == "base64" and base64.b64decode(item["payload"]) == b"\x00\xff not utf-8"
    assert item["shardId"] == SHARD_B and item["sequenceNumber"] == garbage[1]["kinesis"]["sequenceNumber"]
    assert found[garbage[0]["eventID"]]["payload"] == "not base64 !!"
    assert contributions(client, names)["p5"]["merchant"] == "m1"


def test_a_batch_full_of_garbage_reports_no_failure_and_applies_nothing(aws):
    client, names, _new = aws
    garbage = [b"", b"{}", b"null", b"\xff" * 30, json.dumps({"schema": events.ENVELOPE_INGRESS}).encode(),
               json.dumps(dict(purchase("p1"), extra=1)).encode()]
    records = records_of(SHARD_A, garbage)
    assert deliver(client, names, records) == {"batchItemFailures": []}
    assert scores(client, names) == {} and contributions(client, names) == {}
    assert set(rejects(client, names)) == {r["eventID"] for r in records}


def test_a_huge_or_deeply_nested_record_is_rejected_without_crashing(aws):
    client, names, _new = aws
    huge = json.dumps(dict(purchase("p1"), data={"schema": events.PRODUCT_PURCHASE, "id": "x" * 1_000_000})).encode()
    nested = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    nested_list = b"[" * 200_000 + b"]" * 200_000
    huge_but_valid = dict(purchase("p1"), precursors=["x" * 1000] * 1000)
    wide_id = dict(create("m9", "p1"), origin="hello-retail/product-producer-creator/" + "\U0001F600" * 900)
    records = records_of(SHARD_A, [huge, nested, nested_list, create("m1", "p1"), huge_but_valid, wide_id])
    assert deliver(client, names, records) == {"batchItemFailures": []}
    found = rejects(client, names)
    assert {r["eventID"] for r in records[:3] + records[5:]} == set(found)
    payload = found[records[0]["eventID"]]["payload"]
    assert payload.endswith(f"...[truncated {len(huge) - consumer.PAYLOAD_LIMIT} bytes]")
    assert len(payload.encode()) < consumer.PAYLOAD_LIMIT + 100
    assert found[records[5]["eventID"]]["reason"].startswith("no-origin")
    assert scores(client, names) == {("m1", "merchant"): 1}
