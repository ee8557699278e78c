"""Each exercise checker passes the reference solution, says "not done yet" for an unfinished exercise,
and fails plausible wrong answers with the hint that fits them; for every case of every checker, some wrong
answer fails on exactly that case (the last test: a case no answer fails on could be deleted unnoticed)."""

import base64
import binascii
import inspect
import io
import json
import re
import zipfile

import pandas as pd
import pytest
from matplotlib.figure import Figure

from hello_winners import deploy, events, naming
from hello_winners.view import tables
from hello_winners.deploy import bundle, models, propagation
from hello_winners.deploy.names import Names
from hello_winners.errors import EventError, NotDoneYet
from hello_winners.workshop.exercises import (
    EXERCISES,
    LISTINGS,
    ROLES,
    add_to_score,
    cancelled_by_condition,
    checks,
    product_item,
    score_update,
    solutions,
    tags_of,
)
from hello_winners.workshop.exercises.checks import cases
from hello_winners.workshop.exercises.solutions import decode_record, purchase_once, record_contribution, validate_event
from hello_winners.view.fold import seq_key


# What the checkers did across this module's tests, for its last test: the cases the reference solution goes
# through, in order, and for each case a wrong answer failed on, the first such answer's name and the cases it
# went through (the one it failed on last). Only the solution's passing run sets the first; only a failing
# verdict of another function adds to the second. RAN names the tests that fed their answers in this session.
SOLUTION_CASES: dict[str, list[str]] = {}
FAILED_ON: dict[str, dict[int, tuple[str, list[str]]]] = {}
RAN: set[str] = set()


class _Recording(cases.Checker):
    """The checkers' own Checker that also keeps the cases it started, in order. cases.check makes one per
    verdict, so the last one made is the verdict's."""

    last = None

    def __init__(self):
        super().__init__()
        self.started = []
        _Recording.last = self

    def on(self, case, *args, **kwargs):
        self.started.append(case)
        return super().on(case, *args, **kwargs)


@pytest.fixture(autouse=True)
def _recording(request, monkeypatch):
    monkeypatch.setattr(cases, "Checker", _Recording)
    RAN.add(request.function.__name__)


@pytest.fixture(autouse=True)
def _prompt_role_retries(monkeypatch):
    """The checkers make a new role unusable once, and a right answer retries through deploy.until_role_ready;
    its half-second waits (tested in test_planner) would only slow these tests."""
    monkeypatch.setattr(propagation, "PROMPT_WAIT_S", (0.0, 0.01))


def verdict(capsys, name, function):
    """What the checker printed for ``function``; its cases are recorded for the last test."""
    _Recording.last = None
    getattr(checks, name)(function)
    out, run = capsys.readouterr().out, _Recording.last
    assert run is not None, "the checker made no cases.Checker: the recording saw none of its cases"
    if function is getattr(solutions, name):
        if out.splitlines()[-1].startswith(f"{name}: passed ("):  # after any line the solution printed
            SOLUTION_CASES[name] = run.started
    elif out.startswith(f"{name}: not right yet, on ") and run.started:
        FAILED_ON.setdefault(name, {}).setdefault(len(run.started) - 1, (function.__name__, run.started))
    return out


ALL = [name for names in EXERCISES.values() for name in names]


@pytest.mark.parametrize("name", ALL)
def test_the_solution_passes(capsys, name):
    out = verdict(capsys, name, getattr(solutions, name))
    assert out.splitlines()[-1].startswith(f"{name}: passed ("), out  # after any line the solution printed


@pytest.mark.parametrize("name", ALL)
def test_an_unfinished_exercise_is_not_done_yet(capsys, name):
    def unfinished(*args, **kwargs):
        raise NotDoneYet("write the body")

    out = verdict(capsys, name, unfinished)
    assert out == f"{name}: not done yet (write the body)\n"


def test_every_checker_has_a_solution_and_the_other_way_round():
    assert set(ALL) == set(checks.__all__)
    assert all(callable(getattr(solutions, name)) for name in ALL)


def test_a_checker_never_raises_whatever_the_function_does(capsys):
    def explodes(*args):
        raise RuntimeError("boom")

    out = verdict(capsys, "handle_batch", explodes)
    assert "not right yet" in out and "RuntimeError: boom" in out


def assert_fails(capsys, name, function, *hints):
    out = verdict(capsys, name, function)
    assert out.startswith(f"{name}: not right yet, on "), out
    assert "\n  hint: " in out
    for hint in hints:
        assert hint in out, out


# --- lesson 1 --------------------------------------------------------------------------------------

def _put(kinesis, stream_name, event, *, key=None, validate=True, data=None):
    if validate:
        events.validate(event)
    response = kinesis.put_record(StreamName=stream_name, Data=data or events.encode(event),
                                  PartitionKey=key or events.partition_key(event))
    return response["ShardId"], response["SequenceNumber"]


def test_put_event_wrong_answers(capsys):
    def keyed_by_the_origin(kinesis, stream_name, event):
        return _put(kinesis, stream_name, event, key=event["origin"])

    def one_key_for_all(kinesis, stream_name, event):
        return _put(kinesis, stream_name, event, key="hello-retail")

    def not_validated(kinesis, stream_name, event):
        return _put(kinesis, stream_name, event, validate=False)

    def returns_the_response(kinesis, stream_name, event):
        return kinesis.put_record(StreamName=stream_name, Data=events.encode(event), PartitionKey=event["data"]["id"])

    def puts_the_repr(kinesis, stream_name, event):
        return _put(kinesis, stream_name, event, data=repr(event).encode())

    batch = []

    def resends_its_batch(kinesis, stream_name, event):  # put_records is cheaper, but the batch is never emptied
        events.validate(event)
        batch.append({"Data": events.encode(event), "PartitionKey": events.partition_key(event)})
        last = kinesis.put_records(StreamName=stream_name, Records=batch)["Records"][-1]
        return last["ShardId"], last["SequenceNumber"]

    def keys_purchases_by_the_buyer(kinesis, stream_name, event):  # to keep each customer's purchases in order
        buyer = events.parse_origin(event["origin"])[0] if events.kind(event) == "purchase" else None
        return _put(kinesis, stream_name, event, key=buyer)

    def keys_by_the_product_it_was_tried_on(kinesis, stream_name, event):
        return _put(kinesis, stream_name, event, key="p1")

    assert verdict(capsys, "put_event", lambda k, s, e: _put(k, s, e, data=json.dumps(e).encode())).startswith(
        "put_event: passed")  # any JSON spelling of the event will do
    assert_fails(capsys, "put_event", keyed_by_the_origin, "its partition key is 'hello-retail/", "the product id")
    assert_fails(capsys, "put_event", one_key_for_all, "partition key is 'hello-retail', expected the product id 'p1'")
    assert_fails(capsys, "put_event", not_validated, "a property its schema does not allow", "events.validate(event)")
    assert_fails(capsys, "put_event", returns_the_response, "expected ('shardId-", "response['ShardId']")
    assert_fails(capsys, "put_event", puts_the_repr, "not the event's JSON", "events.encode(event)")
    assert_fails(capsys, "put_event", resends_its_batch, "on a photographer's", "it put 2 records for one event",
                 "one put_record call")
    assert_fails(capsys, "put_event", keys_purchases_by_the_buyer, "on a customer's product/purchase of p1",
                 "its partition key is 'c1', expected the product id 'p1'", "all events of a product share a shard")
    assert_fails(capsys, "put_event", keys_by_the_product_it_was_tried_on, "on a purchase of another product, p4",
                 "its partition key is 'p1', expected the product id 'p4'", "events.partition_key(event)")


def _read(kinesis, stream_name, shard_id, sequence_number, kind="AT_SEQUENCE_NUMBER", raw=False):
    at = {} if kind == "TRIM_HORIZON" else {"StartingSequenceNumber": sequence_number}
    iterator = kinesis.get_shard_iterator(StreamName=stream_name, ShardId=shard_id, ShardIteratorType=kind,
                                          **at)["ShardIterator"]
    data = kinesis.get_records(ShardIterator=iterator, Limit=1)["Records"][0]["Data"]
    return data if raw else events.decode(data)


def test_read_back_wrong_answers(capsys):
    assert_fails(capsys, "read_back", lambda *a: _read(*a, kind="TRIM_HORIZON"), "expected the image", "not TRIM_HORIZON")
    assert_fails(capsys, "read_back", lambda *a: _read(*a, kind="AFTER_SEQUENCE_NUMBER"),
                 "it returned the purchase of p1, expected the image", "AFTER_SEQUENCE_NUMBER")
    assert_fails(capsys, "read_back", lambda *a: _read(*a, raw=True), "not the event dict", "events.decode")

    def records_of_every_shard(kinesis, stream_name):
        for shard in kinesis.list_shards(StreamName=stream_name)["Shards"]:
            iterator = kinesis.get_shard_iterator(StreamName=stream_name, ShardId=shard["ShardId"],
                                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            yield from kinesis.get_records(ShardIterator=iterator)["Records"]

    def searches_every_shard(kinesis, stream_name, shard_id, sequence_number):
        return next(events.decode(record["Data"]) for record in records_of_every_shard(kinesis, stream_name)
                    if record["SequenceNumber"] == sequence_number)

    def indexes_the_stream_by_sequence_number(kinesis, stream_name, shard_id, sequence_number):
        by_number = {record["SequenceNumber"]: record for record in records_of_every_shard(kinesis, stream_name)}
        return events.decode(by_number[sequence_number]["Data"])

    # Both take a sequence number for the whole stream's, but each shard numbers its own records: asked for shard 1's
    # record 1 (the create of p1), the search finds shard 0's first; asked for shard 0's (the purchase of p4), the
    # index holds shard 1's, read after it.
    assert_fails(capsys, "read_back", searches_every_shard, "(the create of p1): it returned the purchase of p4",
                 "that one is on shardId-000000000000", "read the shard you are given")
    assert_fails(capsys, "read_back", indexes_the_stream_by_sequence_number, "(the purchase of p4): it returned the "
                 "create of p1", "that one is on shardId-000000000001", "ShardId=shard_id")


# --- lesson 2 --------------------------------------------------------------------------------------

def test_decode_record_wrong_answers(capsys):
    def forgets_base64(record):
        return events.decode(record["kinesis"]["data"].encode())

    def returns_bytes(record):
        return base64.b64decode(record["kinesis"]["data"])

    def uses_json_loads(record):
        try:
            data = base64.b64decode(record["kinesis"]["data"], validate=True)
        except binascii.Error:
            raise EventError("not base64") from None
        return json.loads(data)

    def lets_binascii_escape(record):
        return events.decode(base64.b64decode(record["kinesis"]["data"], validate=True))

    assert_fails(capsys, "decode_record", forgets_base64, "on a good record", "base64.b64decode")
    assert_fails(capsys, "decode_record", returns_bytes, "not the event dict", "events.decode")
    assert_fails(capsys, "decode_record", uses_json_loads, "not JSON", "json.decoder.JSONDecodeError, not EventError", "events.decode")
    assert_fails(capsys, "decode_record", lets_binascii_escape, "not base64", "binascii.Error, not EventError", "catch binascii.Error")

    def loads_any_json_value(record):
        try:
            return json.loads(base64.b64decode(record["kinesis"]["data"], validate=True))
        except (binascii.Error, ValueError) as error:
            raise EventError(f"a bad record: {error}") from None

    assert_fails(capsys, "decode_record", loads_any_json_value, "on a record holding a JSON list, not an object: it "
                 "returned [1, 2, 3]", "json.loads takes any JSON value", "events.decode refuses all but an object")


def _kind_or_none(event):
    try:
        return events.kind(events.validate(event))
    except EventError:
        return None


def test_validate_event_wrong_answers(capsys):
    def returns_the_event(event):
        return events.validate(event)

    def raises_for_bad_events(event):
        return events.kind(events.validate(event))

    def does_not_validate(event):
        return events.KINDS.get(event["data"]["schema"])

    def returns_the_schema(event):
        return events.validate(event)["data"]["schema"]

    assert_fails(capsys, "validate_event", returns_the_event, "not its kind")
    assert_fails(capsys, "validate_event", raises_for_bad_events, "without its product id",
                 "catch EventError and return None")
    assert_fails(capsys, "validate_event", does_not_validate, "without its product id", "events.validate first")
    assert_fails(capsys, "validate_event", returns_the_schema, "expected 'create'", "not the schema id")

    def keeps_only_the_kinds_in_roles(event):  # the kinds record_contribution takes, but purchases count too
        kind = _kind_or_none(event)
        return kind if kind in ROLES else None

    def skips_views_itself(event):
        kind = _kind_or_none(event)
        return kind if kind in ("create", "image", "purchase") else None

    def splits_the_schema_id(event):
        try:
            return events.validate(event)["data"]["schema"].split("/")[2]
        except EventError:
            return None

    def checks_the_id_then_asks_the_kind(event):
        if not isinstance(event, dict) or not event.get("data", {}).get("id"):
            return None
        return events.kind(event)

    def checks_the_fields_by_hand(event):
        data = event.get("data") if isinstance(event, dict) else None
        if not isinstance(data, dict) or not data.get("id") or data.get("schema") not in events.KINDS:
            return None
        return events.KINDS[data["schema"]]

    def looks_up_the_kind_before_validating(event):
        kind = events.KINDS.get(event["data"]["schema"])
        return kind if kind is not None and _kind_or_none(event) else None

    assert_fails(capsys, "validate_event", keeps_only_the_kinds_in_roles, "on a product/purchase: it returned None "
                 "for a valid event", "None says the event is invalid", "also for the kinds the consumer then skips")
    assert_fails(capsys, "validate_event", skips_views_itself, "on a product/view: it returned None for a valid event",
                 "None says the event is invalid")
    assert_fails(capsys, "validate_event", splits_the_schema_id, "on a product/view: it returned 'view', expected "
                 "'product-view'", "not the schema id nor a part of it")
    assert_fails(capsys, "validate_event", checks_the_id_then_asks_the_kind, "on an event with an unknown data schema: "
                 "it raised EventError, from events.kind", "check the whole event with events.validate first")
    assert_fails(capsys, "validate_event", checks_the_fields_by_hand, "on a purchase with a property its schema does "
                 "not allow: it returned 'purchase'", "events.validate first")
    assert_fails(capsys, "validate_event", looks_up_the_kind_before_validating, "on a JSON list instead of an event: "
                 "it raised TypeError", "validate before reading any field: an invalid event may not even be a dict")


def _set_contributor(dynamodb, table_names, event, condition=True, role=None):
    role, (user, name) = role or ROLES[events.kind(event)], events.parse_origin(event["origin"])
    params = {"TableName": table_names[tables.CONTRIBUTIONS], "Key": {"productId": {"S": event["data"]["id"]}},
              "UpdateExpression": f"SET {role} = :id, {role}Name = :name", "ReturnValues": "ALL_NEW",
              "ExpressionAttributeValues": {":id": {"S": user}, ":name": {"S": name}}}
    if condition:
        params["ConditionExpression"] = f"attribute_not_exists({role})"
    return role, user, name, dynamodb.update_item(**params)["Attributes"]


def test_record_contribution_wrong_answers(capsys):
    def last_one_wins(dynamodb, table_names, event):
        _set_contributor(dynamodb, table_names, event, condition=False)
        return True

    def forgets_earlier_purchases(dynamodb, table_names, event):
        try:
            _set_contributor(dynamodb, table_names, event)
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def crashes_on_a_conflict(dynamodb, table_names, event):
        _set_contributor(dynamodb, table_names, event)
        return True

    def scores_everyone(dynamodb, table_names, event):
        role, user, name, _item = _set_contributor(dynamodb, table_names, event)
        dynamodb.update_item(**score_update(table_names, user, role, name, 0))
        return True

    assert_fails(capsys, "record_contribution", last_one_wins, "a conflict", "attribute_not_exists(merchant)")
    assert_fails(capsys, "record_contribution", forgets_earlier_purchases, "bought twice before it was photographed",
                 "ReturnValues='ALL_NEW'")
    assert_fails(capsys, "record_contribution", crashes_on_a_conflict, "ConditionalCheckFailedException")
    assert_fails(capsys, "record_contribution", scores_everyone, "nobody bought", "only contributors with sales")

    def always_the_merchant(dynamodb, table_names, event):  # written for the lesson's first example, a create
        try:
            _set_contributor(dynamodb, table_names, event, role="merchant")
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def puts_the_whole_item(dynamodb, table_names, event):
        role, (user, name) = ROLES[events.kind(event)], events.parse_origin(event["origin"])
        item = {"productId": {"S": event["data"]["id"]}, role: {"S": user}, role + "Name": {"S": name}}
        try:
            dynamodb.put_item(TableName=table_names[tables.CONTRIBUTIONS], Item=item,
                              ConditionExpression=f"attribute_not_exists({role})")
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def forgets_the_nobody_origin(dynamodb, table_names, event):
        try:
            role, user, name, item = _set_contributor(dynamodb, table_names, event)
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        add_to_score(dynamodb, table_names, user, role, name, int(item.get("purchases", {"N": "0"})["N"]))
        return True

    assert_fails(capsys, "record_contribution", always_the_merchant, "on the photo of the same product", "expected "
                 "photographer 'f1'", "the role is ROLES[events.kind(event)]")
    assert_fails(capsys, "record_contribution", puts_the_whole_item, "on the photo of the same product", "its merchant "
                 "m1 is gone", "update_item with SET, not put_item")
    assert_fails(capsys, "record_contribution", forgets_the_nobody_origin, "on a create whose origin names nobody: it "
                 "raised TypeError", "events.parse_origin returns None for an origin that names nobody")


def _count_on_product(dynamodb, table_names, event):
    return dynamodb.update_item(
        TableName=table_names[tables.CONTRIBUTIONS], Key={"productId": {"S": event["data"]["id"]}},
        UpdateExpression="ADD purchases :one", ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="ALL_NEW")["Attributes"]


def test_tally_purchase_wrong_answers(capsys):
    def assumes_both_are_known(dynamodb, table_names, event):
        item = _count_on_product(dynamodb, table_names, event)
        for role in ROLES.values():
            add_to_score(dynamodb, table_names, item[role]["S"], role, item[role + "Name"]["S"], 1)

    def counts_only_the_product(dynamodb, table_names, event):
        _count_on_product(dynamodb, table_names, event)

    def scores_without_counting(dynamodb, table_names, event):
        item = dynamodb.get_item(TableName=table_names[tables.CONTRIBUTIONS],
                                 Key={"productId": {"S": event["data"]["id"]}}).get("Item", {})
        for role in ROLES.values():
            if role in item:
                add_to_score(dynamodb, table_names, item[role]["S"], role, item[role + "Name"]["S"], 1)

    assert_fails(capsys, "tally_purchase", assumes_both_are_known, "nobody has added", "score only the roles it has")
    assert_fails(capsys, "tally_purchase", counts_only_the_product, "the scores are {}", "add_to_score")
    assert_fails(capsys, "tally_purchase", scores_without_counting, "purchases are None", "ADD purchases :one")

    def credits_the_buyer(dynamodb, table_names, event):
        _count_on_product(dynamodb, table_names, event)
        user_id, name = events.parse_origin(event["origin"])
        add_to_score(dynamodb, table_names, user_id, "merchant", name, 1)

    assert_fails(capsys, "tally_purchase", credits_the_buyer, "it credited the buyer, customer c1", "not from the purchase's origin")

    def takes_a_merchant_for_both(dynamodb, table_names, event):  # a product with a merchant is complete, it thinks
        item = _count_on_product(dynamodb, table_names, event)
        if "merchant" in item:
            for role in ROLES.values():
                add_to_score(dynamodb, table_names, item[role]["S"], role, item[role + "Name"]["S"], 1)

    assert_fails(capsys, "tally_purchase", takes_a_merchant_for_both, "on a purchase of a product with a merchant and "
                 "no photographer yet: it raised KeyError", "no photographer yet: score only the roles it has")


def test_handle_batch_wrong_answers(capsys):
    def crashes_on_bad_records(event, dynamodb, table_names):
        for record in event["Records"]:
            data = decode_record(record)
            if validate_event(data) == "purchase":
                solutions.tally_purchase(dynamodb, table_names, data)
            elif validate_event(data) in ROLES:
                record_contribution(dynamodb, table_names, data)
        return {"batchItemFailures": []}

    def returns_nothing(event, dynamodb, table_names):
        solutions.handle_batch(event, dynamodb, table_names)

    def forgets_photos(event, dynamodb, table_names):
        for record in event["Records"]:
            try:
                data = decode_record(record)
            except EventError:
                continue
            kind = validate_event(data)
            if kind == "purchase":
                solutions.tally_purchase(dynamodb, table_names, data)
            elif kind == "create":
                record_contribution(dynamodb, table_names, data)
        return {"batchItemFailures": []}

    assert_fails(capsys, "handle_batch", crashes_on_bad_records, "EventError", "catch EventError")
    assert_fails(capsys, "handle_batch", returns_nothing, "it returned None", "batchItemFailures")
    assert_fails(capsys, "handle_batch", forgets_photos, "the scores are", "creates and images with record_contribution")


# --- lesson 3 --------------------------------------------------------------------------------------

def test_build_zip_wrong_answers(capsys, tmp_path):
    builds = iter(range(1000))

    def returns_a_path():
        path = tmp_path / "consumer.zip"
        path.write_bytes(bundle.build())
        return path

    def zips_the_handler_only():
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(zipfile.ZipInfo("hello_winners/view/consumer.py", (1980, 1, 1, 0, 0, 0)), "# handler")
        return buffer.getvalue()

    def stamps_each_build():
        buffer = io.BytesIO(bundle.build())
        with zipfile.ZipFile(buffer, "a") as archive:
            archive.comment = f"build {next(builds)}".encode()
        return buffer.getvalue()

    assert_fails(capsys, "build_zip", returns_a_path, "not the zip's bytes")
    assert_fails(capsys, "build_zip", zips_the_handler_only, "lacks hello_winners/events/schemas", "deploy.bundle.build()")
    assert_fails(capsys, "build_zip", stamps_each_build, "two builds gave different bytes", "reproducible")


def test_consumer_policy_wrong_answers(capsys):
    def everything_everywhere(names):
        return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}

    def forgets_the_stream(names):
        document = solutions.consumer_policy(names)
        return {**document, "Statement": document["Statement"][1:]}

    def may_delete_tables(names):
        document = solutions.consumer_policy(names)
        extra = {"Effect": "Allow", "Action": ["dynamodb:DeleteTable"], "Resource": [names.table_arn(tables.SCORES)]}
        return {**document, "Statement": document["Statement"] + [extra]}

    def hard_codes_the_stage(names):
        return solutions.consumer_policy(Names("hw-check-", names.region, names.account))

    assert_fails(capsys, "consumer_policy", everything_everywhere, "wildcards", "exact ARN")
    assert_fails(capsys, "consumer_policy", forgets_the_stream, "could not kinesis:", "event source mapping")
    assert_fails(capsys, "consumer_policy", may_delete_tables, "dynamodb:DeleteTable", "never uses")
    assert_fails(capsys, "consumer_policy", hard_codes_the_stage, "prefix hw-other-")


def _with_log_statements(names, group_forms, stream_form=":*"):
    document = solutions.consumer_policy(names)
    group = names.log_group_arn("consumer")
    logs = [{"Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": [group + form for form in group_forms]},
            {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": group + stream_form}]
    return {**document, "Statement": [s for s in document["Statement"] if "logs:" not in str(s["Action"])] + logs}


def test_consumer_policy_is_judged_by_effect_whatever_the_arn_form(capsys):
    for forms in ([":*"], ["", ":*"]):
        out = verdict(capsys, "consumer_policy", lambda names: _with_log_statements(names, forms))
        assert out.startswith("consumer_policy: passed"), out

    def lower_case_actions(names):  # IAM compares actions without regard to case
        document = solutions.consumer_policy(names)
        return {**document, "Statement": [{**s, "Action": [a.lower() for a in s["Action"]]} for s in document["Statement"]]}

    assert verdict(capsys, "consumer_policy", lower_case_actions).startswith("consumer_policy: passed")


def test_consumer_policy_wrong_log_forms(capsys):
    assert_fails(capsys, "consumer_policy", lambda names: _with_log_statements(names, [""], stream_form=""),
                 "could not logs:CreateLogStream", "that ARN + ':*'")
    assert_fails(capsys, "consumer_policy", lambda names: _with_log_statements(names, ["-*"]),
                 "could not logs:CreateLogGroup", "AWS's other spelling")


def test_create_role_wrong_answers(capsys):
    def untagged(iam, names, policy, tags):
        return solutions.create_role(iam, names, policy, {})

    def not_rerunnable(iam, names, policy, tags):
        arn = iam.create_role(RoleName=names.role("consumer"), AssumeRolePolicyDocument=json.dumps(models.LAMBDA_TRUST),
                              PermissionsBoundary=names.boundary_arn,
                              Tags=[{"Key": k, "Value": v} for k, v in tags.items()])["Role"]["Arn"]
        iam.put_role_policy(RoleName=names.role("consumer"), PolicyName="consumer-access", PolicyDocument=json.dumps(policy))
        return arn

    def policy_only_at_creation(iam, names, policy, tags):
        try:
            return not_rerunnable(iam, names, policy, tags)
        except iam.exceptions.EntityAlreadyExistsException:
            return iam.get_role(RoleName=names.role("consumer"))["Role"]["Arn"]

    def trusted_by_ec2(iam, names, policy, tags):
        trust = json.loads(json.dumps(models.LAMBDA_TRUST).replace("lambda.amazonaws.com", "ec2.amazonaws.com"))
        arn = iam.create_role(RoleName=names.role("consumer"), AssumeRolePolicyDocument=json.dumps(trust),
                              PermissionsBoundary=names.boundary_arn)["Role"]["Arn"]
        return arn

    def tags_as_lambda_takes_them(iam, names, policy, tags):
        return iam.create_role(RoleName=names.role("consumer"), AssumeRolePolicyDocument=json.dumps(models.LAMBDA_TRUST),
                               Tags=tags, PermissionsBoundary=names.boundary_arn)["Role"]["Arn"]

    def unbounded(iam, names, policy, tags):
        arn = iam.create_role(RoleName=names.role("consumer"), AssumeRolePolicyDocument=json.dumps(models.LAMBDA_TRUST),
                              Tags=[{"Key": k, "Value": v} for k, v in tags.items()])["Role"]["Arn"]
        iam.put_role_policy(RoleName=names.role("consumer"), PolicyName="consumer-access", PolicyDocument=json.dumps(policy))
        return arn

    assert_fails(capsys, "create_role", unbounded, "permissions boundary is None", "PermissionsBoundary=names.boundary_arn")
    assert_fails(capsys, "create_role", untagged, "tags", "teardown finds", "Tags=[{'Key': k, 'Value': v} for k, v in")
    assert_fails(capsys, "create_role", tags_as_lambda_takes_them, "Invalid type for parameter Tags",
                 "Tags=[{'Key': k, 'Value': v} for k, v in tags.items()]", "IAM takes tags as a list of Key/Value pairs")
    assert_fails(capsys, "create_role", not_rerunnable, "running it again", "EntityAlreadyExistsException")
    assert_fails(capsys, "create_role", policy_only_at_creation, "policy was not updated", "put_role_policy")
    assert_fails(capsys, "create_role", trusted_by_ec2, "Lambda may not assume", "LAMBDA_TRUST")


def _create(lam, names, role_arn, code, tags, **overrides):
    params = {"FunctionName": names.function("consumer"), "Runtime": "python3.12", "Role": role_arn,
              "Code": {"ZipFile": code}, "Handler": models.CONSUMER_HANDLER, "MemorySize": 256, "Timeout": 60,
              "Environment": {"Variables": names.tables}, "Tags": tags}
    return deploy.until_role_ready(lambda: lam.create_function(**{**params, **overrides}),
                                   report=lambda line: None)["FunctionArn"]


def test_create_function_wrong_answers(capsys):
    def old_runtime(lam, names, role_arn, code, tags):
        return _create(lam, names, role_arn, code, tags, Runtime="python3.9")

    def no_environment(lam, names, role_arn, code, tags):
        return _create(lam, names, role_arn, code, tags, Environment={"Variables": {}})

    def not_rerunnable(lam, names, role_arn, code, tags):
        return _create(lam, names, role_arn, code, tags)

    def keeps_the_old_code(lam, names, role_arn, code, tags):
        try:
            return _create(lam, names, role_arn, code, tags)
        except lam.exceptions.ResourceConflictException:
            return lam.get_function_configuration(FunctionName=names.function("consumer"))["FunctionArn"]

    def forgets_the_new_role_needs_time(lam, names, role_arn, code, tags):
        params = {"FunctionName": names.function("consumer"), "Runtime": "python3.12", "Role": role_arn,
                  "Code": {"ZipFile": code}, "Handler": models.CONSUMER_HANDLER, "MemorySize": 256, "Timeout": 60,
                  "Environment": {"Variables": names.tables}, "Tags": tags}
        return lam.create_function(**params)["FunctionArn"]

    assert_fails(capsys, "create_function", forgets_the_new_role_needs_time, "InvalidParameterValueException",
                 "deploy.until_role_ready")
    assert_fails(capsys, "create_function", old_runtime, "Runtime is 'python3.9'", "python3.12")
    assert_fails(capsys, "create_function", no_environment, "environment is {}", "names.tables")
    assert_fails(capsys, "create_function", not_rerunnable, "running it again", "ResourceConflictException")
    assert_fails(capsys, "create_function", keeps_the_old_code, "old code", "update_function_code")


def _map(lam, names, **overrides):
    params = {"FunctionName": names.function("consumer"), "EventSourceArn": names.stream_arn,
              "StartingPosition": "TRIM_HORIZON", "BatchSize": 100, "MaximumBatchingWindowInSeconds": 1,
              "BisectBatchOnFunctionError": True, "MaximumRetryAttempts": 10,
              "FunctionResponseTypes": ["ReportBatchItemFailures"],
              "DestinationConfig": {"OnFailure": {"Destination": names.queue_arn}}}
    params = {key: value for key, value in {**params, **overrides}.items() if value is not None}
    return deploy.until_role_ready(lambda: lam.create_event_source_mapping(**params), report=lambda line: None)["UUID"]


def test_connect_stream_wrong_answers(capsys):
    def from_latest(lam, names):
        return _map(lam, names, StartingPosition="LATEST")

    def ignores_partial_failures(lam, names):
        return _map(lam, names, FunctionResponseTypes=[])

    def maps_again_every_run(lam, names):
        return _map(lam, names)

    def drops_what_keeps_failing(lam, names):
        return _map(lam, names, DestinationConfig=None)

    def forgets_the_new_role_needs_time(lam, names):
        return lam.create_event_source_mapping(
            FunctionName=names.function("consumer"), EventSourceArn=names.stream_arn, StartingPosition="TRIM_HORIZON",
            BatchSize=100, MaximumBatchingWindowInSeconds=1, BisectBatchOnFunctionError=True,
            MaximumRetryAttempts=10, FunctionResponseTypes=["ReportBatchItemFailures"],
            DestinationConfig={"OnFailure": {"Destination": names.queue_arn}})["UUID"]

    assert_fails(capsys, "connect_stream", forgets_the_new_role_needs_time, "cannot be assumed",
                 "deploy.until_role_ready")
    assert_fails(capsys, "connect_stream", from_latest, "starts at LATEST", "TRIM_HORIZON")
    assert_fails(capsys, "connect_stream", ignores_partial_failures, "ReportBatchItemFailures")
    assert_fails(capsys, "connect_stream", drops_what_keeps_failing, "dropped without a trace", "names.queue_arn")
    assert_fails(capsys, "connect_stream", maps_again_every_run, "running it again", "list_event_source_mappings")


# --- lesson 5 --------------------------------------------------------------------------------------

_NOT_SEEN = "attribute_not_exists(#m) OR #m < :seq"


def _product_update(table_names, event, marker, seq_text, condition=_NOT_SEEN):
    update = {"TableName": table_names[tables.CONTRIBUTIONS], "Key": {"productId": {"S": event["data"]["id"]}},
              "UpdateExpression": "SET #m = :seq ADD purchases :one", "ExpressionAttributeNames": {"#m": marker},
              "ExpressionAttributeValues": {":seq": {"S": seq_text}, ":one": {"N": "1"}}}
    return {**update, "ConditionExpression": condition} if condition else update


def _purchase_transaction(dynamodb, table_names, event, marker, seq_text, condition=_NOT_SEEN, roles_it_has=True):
    item = product_item(dynamodb, table_names, event["data"]["id"])
    writes = [{"Update": _product_update(table_names, event, marker, seq_text, condition)}] + [
        {"Update": score_update(table_names, item[r]["S"], r, item[r + "Name"]["S"], 1)}
        for r in ROLES.values() if r in item or not roles_it_has]
    dynamodb.transact_write_items(TransactItems=writes)
    return True


def _once(dynamodb, table_names, event, marker, seq_text, **mistake):
    try:
        return _purchase_transaction(dynamodb, table_names, event, marker, seq_text, **mistake)
    except dynamodb.exceptions.TransactionCanceledException:
        return False


def test_purchase_once_wrong_answers(capsys):
    def unconditional(dynamodb, table_names, event, shard_id, sequence_number):
        return _purchase_transaction(dynamodb, table_names, event, f"seq@{shard_id}", seq_key(sequence_number), None)

    def compares_plain_numbers(dynamodb, table_names, event, shard_id, sequence_number):
        return _once(dynamodb, table_names, event, f"seq@{shard_id}", str(sequence_number))

    def one_marker_for_all_shards(dynamodb, table_names, event, shard_id, sequence_number):
        return _once(dynamodb, table_names, event, "seq", seq_key(sequence_number))

    def crashes_on_a_repeat(dynamodb, table_names, event, shard_id, sequence_number):
        return _purchase_transaction(dynamodb, table_names, event, f"seq@{shard_id}", seq_key(sequence_number))

    assert_fails(capsys, "purchase_once", unconditional, "a duplicate", "condition the product's update on its marker")
    assert_fails(capsys, "purchase_once", compares_plain_numbers, "sequence number '10' after '9'", "seq_key")
    assert_fails(capsys, "purchase_once", one_marker_for_all_shards, "another shard", "one marker per shard")
    assert_fails(capsys, "purchase_once", crashes_on_a_repeat, "TransactionCanceledException")

    def refuses_only_the_same_record(dynamodb, table_names, event, shard_id, sequence_number):
        return _once(dynamodb, table_names, event, f"seq@{shard_id}", seq_key(sequence_number),
                     condition="attribute_not_exists(#m) OR #m <> :seq")

    def scores_outside_the_transaction(dynamodb, table_names, event, shard_id, sequence_number):
        item = product_item(dynamodb, table_names, event["data"]["id"])
        for role in ROLES.values():
            if role in item:
                add_to_score(dynamodb, table_names, item[role]["S"], role, item[role + "Name"]["S"], 1)
        try:
            dynamodb.update_item(**_product_update(table_names, event, f"seq@{shard_id}", seq_key(sequence_number)))
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def scores_every_role(dynamodb, table_names, event, shard_id, sequence_number):
        return _once(dynamodb, table_names, event, f"seq@{shard_id}", seq_key(sequence_number), roles_it_has=False)

    assert_fails(capsys, "purchase_once", refuses_only_the_same_record, "on an older record of a batch delivered again "
                 "(sequence number 5): an old record was counted again", "refuse every sequence number not above the "
                 "marker", "not only the one equal to it")
    assert_fails(capsys, "purchase_once", scores_outside_the_transaction, "on an older record of a batch delivered "
                 "again (sequence number 5): a repeat moved a score", "in the same transaction")
    assert_fails(capsys, "purchase_once", scores_every_role, "on a purchase of a product nobody added or photographed "
                 "yet: it raised KeyError", "add score updates only for the roles the item has")


def test_a_parameter_error_is_shown_whole_with_the_seq_key_hint(capsys):
    def marker_as_a_number(dynamodb, table_names, event, shard_id, sequence_number):
        return _once(dynamodb, table_names, event, f"seq@{shard_id}", int(sequence_number))

    assert_fails(capsys, "purchase_once", marker_as_a_number, "ParamValidationError: Parameter validation failed: "
                 "Invalid type for parameter", ":seq.S", "{'S': seq_key(sequence_number)}")


def _apply(record, dynamodb, table_names, data):
    kind = validate_event(data)
    if kind == "purchase":
        purchase_once(dynamodb, table_names, data, record["eventID"].rpartition(":")[0],
                      int(record["kinesis"]["sequenceNumber"]))
    elif kind in ROLES:
        record_contribution(dynamodb, table_names, data)


def _decoded(event):
    for record in event["Records"]:
        try:
            yield record, decode_record(record)
        except EventError:
            continue


def test_handle_batch_once_wrong_answers(capsys):
    from botocore.exceptions import ClientError

    def naive(event, dynamodb, table_names):
        return solutions.handle_batch(event, dynamodb, table_names)

    def swallows_failures(event, dynamodb, table_names):
        for record, data in _decoded(event):
            try:
                _apply(record, dynamodb, table_names, data)
            except ClientError:
                continue
        return {"batchItemFailures": []}

    def goes_on_after_a_failure(event, dynamodb, table_names):
        failed = []
        for record, data in _decoded(event):
            try:
                _apply(record, dynamodb, table_names, data)
            except ClientError:
                failed.append({"itemIdentifier": record["kinesis"]["sequenceNumber"]})
        return {"batchItemFailures": failed[:1]}

    def reports_the_event_id(event, dynamodb, table_names):
        for record, data in _decoded(event):
            try:
                _apply(record, dynamodb, table_names, data)
            except ClientError:
                return {"batchItemFailures": [{"itemIdentifier": record["eventID"]}]}
        return {"batchItemFailures": []}

    assert_fails(capsys, "handle_batch_once", naive, "repeated records", "purchase_once")
    assert_fails(capsys, "handle_batch_once", swallows_failures, "throttled", "batchItemFailures")
    assert_fails(capsys, "handle_batch_once", goes_on_after_a_failure, "the retry", "stop at the first failed record",
                 "expected {('m1', 'merchant'): 2")
    assert_fails(capsys, "handle_batch_once", reports_the_event_id, "throttled", "expected the third record")


def test_handle_batch_once_shows_the_expected_scores_after_a_redelivery(capsys):
    def counts_a_redelivery_again(event, dynamodb, table_names):
        solutions.handle_batch_once(event, dynamodb, table_names)
        if all(record["kinesis"]["sequenceNumber"] != event["Records"][0]["kinesis"]["sequenceNumber"]
               for record in event["Records"][1:]):  # the whole batch again, not the doubled one: count it twice
            solutions.handle_batch(event, dynamodb, table_names)
        return {"batchItemFailures": []}

    assert_fails(capsys, "handle_batch_once", counts_a_redelivery_again, "after a redelivery the scores are",
                 "expected {('m1', 'merchant'): 2, ('f1', 'photographer'): 2")


# --- lesson 6 --------------------------------------------------------------------------------------

def _category_counts(frame, keep="first", unknown=None):
    created = frame[frame["kind"] == "create"].drop_duplicates("productId", keep=keep)
    category_of = dict(zip(created["productId"], created["category"]))
    bought = frame.loc[frame["kind"] == "purchase", "productId"].astype("string").map(category_of)
    return (bought.fillna(unknown) if unknown else bought.dropna()).value_counts()


def test_sales_per_category_wrong_answers(capsys):
    def last_create_wins(frame):
        return _category_counts(frame, keep="last").sort_index().sort_values(ascending=False, kind="stable")

    def counts_unknown_products(frame):
        return _category_counts(frame, unknown="unknown").sort_index().sort_values(ascending=False, kind="stable")

    def ties_in_any_order(frame):
        return _category_counts(frame)

    def returns_a_frame(frame):
        return _category_counts(frame).to_frame()

    assert_fails(capsys, "sales_per_category", last_create_wins, "a conflict", "first create")
    assert_fails(capsys, "sales_per_category", counts_unknown_products, "nobody created", "dropna")
    assert_fails(capsys, "sales_per_category", ties_in_any_order, "a tie", "sort_index()")
    assert_fails(capsys, "sales_per_category", returns_a_frame, "not a Series")


def test_sales_per_category_names_the_categorical_index_when_the_order_comes_from_it(capsys):
    """The plausible answer that sorts ties by name and still fails: map on the categorical productId keeps the
    category dtype (one product per category), and its sort_index follows the categories' order."""
    def maps_the_categorical_product(frame):
        created = frame[frame["kind"] == "create"].drop_duplicates("productId")
        category_of = dict(zip(created["productId"], created["category"]))
        bought = frame.loc[frame["kind"] == "purchase", "productId"].map(category_of).dropna()
        return bought.value_counts().sort_index().sort_values(ascending=False, kind="stable")

    out = verdict(capsys, "sales_per_category", maps_the_categorical_product)
    assert "a tie" in out and "its index is categorical" in out and "astype('string')" in out, out
    assert "sort_index(), then a stable sort_values" not in out, out  # what the participant already did


def test_the_given_helpers_used_by_the_lessons_do_what_they_say():
    assert seq_key(10) > seq_key(9)
    error = type("E", (Exception,), {"response": {"CancellationReasons": [{"Code": "ConditionalCheckFailed"}]}})()
    assert cancelled_by_condition(error)
    assert not cancelled_by_condition(type("E", (Exception,), {"response": {}})())


# --- lesson 4 --------------------------------------------------------------------------------------

def _query(dynamodb, table, role, limit, start_key=None, **overrides):
    params = dict(TableName=table, IndexName=tables.SCORES_INDEX, KeyConditionExpression="#r = :r",
                  ExpressionAttributeNames={"#r": "role"}, ExpressionAttributeValues={":r": {"S": role}},
                  ScanIndexForward=False, Limit=limit, **({"ExclusiveStartKey": start_key} if start_key else {}))
    params.update(overrides)
    response = dynamodb.query(**{k: v for k, v in params.items() if v is not None})
    rows = [{"userId": i["userId"]["S"], "name": i["name"]["S"], "score": int(i["score"]["N"])} for i in response["Items"]]
    return rows, response.get("LastEvaluatedKey")


def test_top_of_role_wrong_answers(capsys):
    def scans_and_sorts(dynamodb, table, role, limit, start_key=None):
        items = dynamodb.scan(TableName=table)["Items"]
        rows = sorted(({"userId": i["userId"]["S"], "name": i["name"]["S"], "score": int(i["score"]["N"])}
                       for i in items if i["role"]["S"] == role), key=lambda r: -r["score"])
        return rows[:limit], None

    def lowest_first(dynamodb, table, role, limit, start_key=None):
        return _query(dynamodb, table, role, limit, start_key, ScanIndexForward=None)

    def ignores_the_start_key(dynamodb, table, role, limit, start_key=None):
        return _query(dynamodb, table, role, limit)

    def reads_all_then_cuts(dynamodb, table, role, limit, start_key=None):
        rows, _ = _query(dynamodb, table, role, limit, start_key, Limit=None)
        return rows[:limit], None

    assert_fails(capsys, "top_of_role", scans_and_sorts, "it called Scan, expected one Query", "never a Scan")
    assert_fails(capsys, "top_of_role", lowest_first, "expected [12, 9]", "ScanIndexForward=False")
    assert_fails(capsys, "top_of_role", ignores_the_start_key, "three merchants tie", "ExclusiveStartKey=start_key")
    assert_fails(capsys, "top_of_role", reads_all_then_cuts, "its Limit is None", "Limit=limit")

    def nothing_for_an_empty_role(dynamodb, table, role, limit, start_key=None):
        rows, next_key = _query(dynamodb, table, role, limit, start_key)
        return (rows, next_key) if rows else None

    assert_fails(capsys, "top_of_role", nothing_for_an_empty_role, "on a role with no scores yet: it returned None, "
                 "expected ([], None)", "an empty board, and no next page")


def test_top_of_role_with_scores_left_as_text_is_told_about_the_text_only(capsys):
    def scores_as_text(dynamodb, table, role, limit, start_key=None):
        rows, next_key = _query(dynamodb, table, role, limit, start_key)
        return [{**row, "score": str(row["score"])} for row in rows], next_key

    out = verdict(capsys, "top_of_role", scores_as_text)
    assert "the scores are ['12', '9'], expected [12, 9] (ints)" in out and "int(item['score']['N'])" in out, out
    assert "ScanIndexForward" not in out, out  # the participant had it right


def _plain_rows(items):
    return [{"userId": i["userId"]["S"], "role": i["role"]["S"], "name": i["name"]["S"], "score": i["score"]["N"]}
            for i in items]


def test_scores_frame_wrong_answers(capsys):
    def scores_as_text(items):
        frame = pd.DataFrame(_plain_rows(items), columns=["userId", "role", "name", "score"]).astype(
            {"userId": "string", "role": "string", "name": "string"})
        return frame.sort_values(["role", "score", "userId"], ascending=[True, False, True], ignore_index=True)

    def object_columns(items):
        frame = pd.DataFrame(_plain_rows(items), columns=["userId", "role", "name", "score"]).astype({"score": "int64"})
        return frame.sort_values(["role", "score", "userId"], ascending=[True, False, True], ignore_index=True)

    def unsorted(items):
        return pd.DataFrame(_plain_rows(items), columns=["userId", "role", "name", "score"]).astype(
            {"userId": "string", "role": "string", "name": "string", "score": "int64"})

    def no_columns_when_empty(items):
        return solutions.scores_frame(items) if items else pd.DataFrame()

    def keeps_the_old_index(items):
        return unsorted(items).sort_values(["role", "score", "userId"], ascending=[True, False, True])

    assert_fails(capsys, "scores_frame", scores_as_text, "its dtypes are", "'score': 'int64'}", "'9' above '12'")
    assert_fails(capsys, "scores_frame", object_columns, "its dtypes are", "'userId': 'string'")
    assert_fails(capsys, "scores_frame", unsorted, "its rows are", "ascending=[True, False, True]")
    assert_fails(capsys, "scores_frame", no_columns_when_empty, "nobody sold yet", "keeps them even when there are no rows")
    assert_fails(capsys, "scores_frame", keeps_the_old_index, "its index is", "ignore_index=True")


def test_scores_frame_names_the_text_dtype_that_differs_and_leaves_the_scores_alone(capsys):
    def default_text_columns(items):  # object on pandas 2, 'str' on pandas 3
        rows = [{**row, "score": int(row["score"])} for row in _plain_rows(items)]
        frame = pd.DataFrame(rows, columns=["userId", "role", "name", "score"]).astype({"score": "int64"})
        return frame.sort_values(["role", "score", "userId"], ascending=[True, False, True], ignore_index=True)

    out = verdict(capsys, "scores_frame", default_text_columns)
    default = str(pd.DataFrame({"a": ["x"]})["a"].dtype)
    assert f"userId, role, name are '{default}' (pandas {'3' if default == 'str' else '2'}'s default for text)" in out, out
    assert ".astype({'userId': 'string', 'role': 'string', 'name': 'string'})" in out, out
    assert "'9' above '12'" not in out and "score is" not in out, out  # the scores were int64 already


def _chart(scores, role, top=10, *, by_id=False, ascending=False, title="Top", xlabel="Sales", one_colour=False,
           every_role=False, ties="userId", first_marked=False):
    board = scores if every_role else scores[scores["role"] == role]
    board = board.sort_values(["score", ties], ascending=[ascending, True]).head(top)
    fig = Figure()
    ax = fig.subplots()
    best = board["score"].max()
    colours = ["C0" if one_colour or s != best else "C1" for s in board["score"]]
    if first_marked:
        colours = ["C1"] + ["C0"] * (len(board) - 1)
    ax.bar(list(board["userId" if by_id else "name"]), list(board["score"]), color=colours)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Sales")
    return fig


def test_leaderboard_chart_accepts_vertical_bars_too(capsys):
    assert verdict(capsys, "leaderboard_chart", _chart).startswith("leaderboard_chart: passed")


def test_leaderboard_chart_wrong_answers(capsys):
    def variant(**mistake):
        return lambda scores, role, top=10: _chart(scores, role, top, **mistake)

    assert_fails(capsys, "leaderboard_chart", variant(ascending=True), "from the first to the last", "highest first")
    assert_fails(capsys, "leaderboard_chart", variant(by_id=True), "labelled ['m1'", "the name column")
    assert_fails(capsys, "leaderboard_chart", variant(one_colour=True), "the leader is not marked", "color=[...]")
    assert_fails(capsys, "leaderboard_chart", variant(title=""), "no title", "ax.set_title")
    assert_fails(capsys, "leaderboard_chart", variant(xlabel=""), "an axis has no title", "ax.set_xlabel")
    assert_fails(capsys, "leaderboard_chart", variant(every_role=True), "expected 4", "scores['role'] == role")
    assert_fails(capsys, "leaderboard_chart", lambda scores, role, top=10: None, "not a matplotlib Figure")
    assert_fails(capsys, "leaderboard_chart", variant(ties="name"), "on three merchants tied at the top, top=3: "
                 "the bars are labelled ['Max', 'Meg', 'Mia'], expected ['Mia', 'Max', 'Mo']: the same scores, tied "
                 "ones in another order", "break ties by userId: sort_values(['score', 'userId'], "
                 "ascending=[False, True])")
    assert_fails(capsys, "leaderboard_chart", variant(first_marked=True), "on three merchants tied at the top, top=3: "
                 "not every leader is marked alike", "every bar at the top score")


# --- lesson 6: sales by contributor and the race chart ---------------------------------------------

def _contributor_table(frame, role, *, keep="first", after_contribution=False, agg=("min", "max"), order=None):
    contributions = frame[frame["kind"] == {"merchant": "create", "photographer": "image"}[role]]
    owners = contributions.drop_duplicates("productId", keep=keep).astype(
        {"productId": "string", "userId": "string", "name": "string"})[["productId", "userId", "name", "time"]]
    purchases = frame[frame["kind"] == "purchase"].astype({"productId": "string"})[["productId", "time"]]
    joined = purchases.merge(owners, on="productId", suffixes=("", "Contributed"))
    if after_contribution:
        joined = joined[joined["time"] > joined["timeContributed"]]
    table = joined.groupby(["userId", "name", "productId"], as_index=False)["time"].agg(
        sales="size", firstSale=agg[0], lastSale=agg[1])
    table["total"] = table.groupby("userId")["sales"].transform("sum")
    by = order or ["total", "userId", "sales", "productId"]
    table = table.sort_values(by, ascending=[c not in ("total", "sales") for c in by], ignore_index=True)
    return table[["userId", "name", "productId", "sales", "firstSale", "lastSale"]]


def test_contributor_sales_wrong_answers(capsys):
    assert verdict(capsys, "contributor_sales", _contributor_table).startswith("contributor_sales: passed")
    assert_fails(capsys, "contributor_sales", lambda f, r: _contributor_table(f, r, keep="last"),
                 "a conflict", "the first create wins")
    assert_fails(capsys, "contributor_sales", lambda f, r: _contributor_table(f, r, after_contribution=True),
                 "bought once before its photo", "also those before the photo")
    assert_fails(capsys, "contributor_sales", lambda f, r: _contributor_table(f, r, agg=("max", "min")),
                 "16:30-16:05", "first create wins")
    assert_fails(capsys, "contributor_sales", lambda f, r: _contributor_table(f, r, order=["userId", "productId"]),
                 "in the order ['p1', 'p2', 'p3']", "transform('sum')")
    assert_fails(capsys, "contributor_sales", lambda f, r: _contributor_table(f, r).drop(columns="lastSale"),
                 "its columns are", "lastSale='max'")


def _race_figure(race, role, *, label="name", cumulative=True, legend=True, title="Race"):
    fig = Figure()
    ax = fig.subplots()
    for _, line in race.groupby("userId", observed=True):
        ax.step(line["time"], line["sales"] if cumulative else [1] * len(line), label=str(line[label].iloc[0]))
    if legend:
        ax.legend()
    ax.set_title(title)
    ax.set_xlabel("Time")
    ax.set_ylabel("Sales")
    return fig


def test_race_chart_wrong_answers(capsys):
    def variant(**mistake):
        return lambda race, role: _race_figure(race, role, **mistake)

    def one_line_for_all(race, role):
        fig = _race_figure(race.iloc[:0], role, legend=False)
        fig.axes[0].plot(race["time"], race["sales"], label="sales")
        fig.axes[0].legend()
        return fig

    assert verdict(capsys, "race_chart", variant()).startswith("race_chart: passed")
    assert_fails(capsys, "race_chart", variant(label="userId"), "labelled ['m1', 'm2', 'm3']", "not their userId")
    assert_fails(capsys, "race_chart", variant(cumulative=False), "the lines end at", "already counts up")
    assert_fails(capsys, "race_chart", variant(legend=False), "no legend", "ax.legend()")
    assert_fails(capsys, "race_chart", variant(title=""), "no title", "ax.set_title")
    assert_fails(capsys, "race_chart", one_line_for_all, "labelled ['sales']", "groupby('userId')")


# --- lesson 7 --------------------------------------------------------------------------------------

def _leftovers(clients, prefix, stage, *, paged=True, wanted=None, prefix_first=True, order=sorted, left=None):
    wanted = (wanted if wanted is not None else naming.tags(stage)).items()
    left = [] if left is None else left
    for kind, (service, operation, key, field) in LISTINGS.items():
        client = clients[service]
        pages = client.get_paginator(operation).paginate() if paged else [getattr(client, operation)()]
        for page in pages:
            for entry in page[key]:
                name = entry[field] if field else entry
                if prefix_first and not name.startswith(prefix):
                    continue
                if wanted <= tags_of(clients, kind, name).items() and name.startswith(prefix):
                    left.append((kind, name))
    return order(left)


def test_stage_leftovers_wrong_answers(capsys):
    def variant(**mistake):
        return lambda clients, prefix, stage: _leftovers(clients, prefix, stage, **mistake)

    assert_fails(capsys, "stage_leftovers", variant(paged=False), "it missed table hw-alice-Scores", "get_paginator")
    assert_fails(capsys, "stage_leftovers", variant(wanted={}), "table hw-alice-notes: it lacks the kit's tags",
                 "confirm by tags")
    assert_fails(capsys, "stage_leftovers", variant(wanted={naming.KIT_TAG: naming.KIT}),
                 "stream hw-alice-2-stream: it is stage alice-2's", "the stage's too")
    assert_fails(capsys, "stage_leftovers", variant(prefix_first=False), "tags of aa-filler-000", "filter by name first")
    assert_fails(capsys, "stage_leftovers", variant(order=list), "it returned [('table'", "sorted(left)")

    def gathers_into_a_default_list(clients, prefix, stage, left=[]):  # noqa: B006 - the mistake: one list, every call
        return _leftovers(clients, prefix, stage, left=left)

    assert_fails(capsys, "stage_leftovers", gathers_into_a_default_list, "on the same stage after its teardown: it "
                 "returned [('function', 'hw-alice-consumer')", "which the teardown deleted",
                 "a default argument (left=[])")


def test_tags_of_what_your_policy_may_not_read_are_none():
    from botocore.exceptions import ClientError

    class Denied:
        def list_tags_for_stream(self, **_):
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "ListTagsForStream")

    assert tags_of({"kinesis": Denied()}, "stream", "hw-alice-2-stream") == {}


def _feeding_tests():
    """This module's tests that feed functions to the checkers: all but the parametrized ones (the solution and
    the unfinished exercise, for every checker) and the last test itself."""
    return [test for name, test in globals().items() if name.startswith("test_") and callable(test)
            and test is not test_every_case_of_every_checker_is_failed_by_some_wrong_answer
            and not any(mark.name == "parametrize" for mark in getattr(test, "pytestmark", []))]


def _shape(cases_run):
    """Cases as their text reads without its numbers, which a checker may take from what AWS generated."""
    return [re.sub(r"\d+", "#", case) for case in cases_run]


def test_every_case_of_every_checker_is_failed_by_some_wrong_answer(request, capsys):
    """A case no wrong answer fails on could be weakened or deleted with every test still passing.

    A case is known by its position in the reference solution's run; a wrong answer counts for the case it
    failed on, and must have gone through the solution's cases before it (else positions would lie). The wrong
    answers are the other tests': those that did not run in this session (this test alone, or picked by -k)
    run here first.
    """
    for test in _feeding_tests():
        if test.__name__ not in RAN:
            test(**{arg: request.getfixturevalue(arg) for arg in inspect.signature(test).parameters})
    for name in ALL:
        if name not in SOLUTION_CASES:
            verdict(capsys, name, getattr(solutions, name))
    assert set(SOLUTION_CASES) == set(ALL), f"the solution did not pass: {sorted(set(ALL) - set(SOLUTION_CASES))}"
    strayed = [f"{name}: {answer} went through {path}, the solution through {SOLUTION_CASES[name][:index + 1]}"
               for name, failed in FAILED_ON.items() for index, (answer, path) in failed.items()
               if _shape(path) != _shape(SOLUTION_CASES[name][:index + 1])]
    assert not strayed, "cases are told apart by position, but these runs took another path:\n" + "\n".join(strayed)
    unreached = [f"{name}: case {index + 1}, {case!r}" for name in ALL
                 for index, case in enumerate(SOLUTION_CASES[name]) if index not in FAILED_ON.get(name, {})]
    failed_before = (f"\n({request.session.testsfailed} tests failed before this one: the wrong answers after "
                     "their first failure did not run)" if request.session.testsfailed else "")
    assert not unreached, (f"cases no wrong answer fails on ({len(unreached)}):\n" + "\n".join(unreached)
                           + failed_before)
