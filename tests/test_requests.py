"""The consumer's DynamoDB requests, built with no client: keys, conditions, markers, and retries that never mutate."""

import base64
import copy

import pytest

from hello_winners.view import requests
from hello_winners.view.fold import ProductState, ProductUpdate, Record, ScoreMove, marker_attribute, seq_key

SHARD = "shardId-000000000000"
MARKER = marker_attribute(SHARD)


def a_move():
    """Three contributions to one score, from two products, at sequence numbers 10, 20 and 30."""
    return ScoreMove(name="Alice", first=10, contributions=[(10, 1, "p1"), (20, 2, "p2"), (30, 4, "p1")])


def test_product_reads_are_consistent_and_split_at_a_hundred_keys():
    products = [f"p{i}" for i in range(250)]
    reads = requests.product_reads("contributions", products)
    assert [len(r["contributions"]["Keys"]) for r in reads] == [100, 100, 50]
    assert all(r["contributions"]["ConsistentRead"] for r in reads)
    assert [k["productId"]["S"] for r in reads for k in r["contributions"]["Keys"]] == products
    assert requests.product_reads("contributions", []) == []


def test_a_reject_put_keeps_the_record_its_reason_and_a_cut_payload():
    record = Record(7, "7", f"{SHARD}:7", "reject", reason="not JSON", payload=b"x" * (requests.PAYLOAD_LIMIT + 5))
    item = requests.reject_put(record, SHARD, "2026-01-01T00:00:00.000+00:00")["PutRequest"]["Item"]
    assert item["eventId"] == {"S": f"{SHARD}:7"} and item["reason"] == {"S": "not JSON"}
    assert item["shardId"] == {"S": SHARD} and item["sequenceNumber"] == {"S": "7"}
    assert item["payloadEncoding"] == {"S": "utf-8"}
    assert item["payload"]["S"] == "x" * requests.PAYLOAD_LIMIT + "...[truncated 5 bytes]"
    binary = requests.reject_put(Record(8, "8", "e8", "reject", reason="r", payload=b"\xff\xfe"), SHARD, "t")
    assert binary["PutRequest"]["Item"]["payload"] == {"S": base64.b64encode(b"\xff\xfe").decode()}
    assert binary["PutRequest"]["Item"]["payloadEncoding"] == {"S": "base64"}


def test_a_score_update_adds_the_total_once_below_the_first_contribution():
    request = requests.score_update("scores", ("u1", "merchant"), a_move(), MARKER)
    assert request["TableName"] == "scores"
    assert request["Key"] == {"userId": {"S": "u1"}, "role": {"S": "merchant"}}
    assert request["ConditionExpression"] == "attribute_not_exists(#m) OR #m < :lo"
    assert request["ExpressionAttributeNames"] == {"#n": "name", "#m": MARKER}
    values = request["ExpressionAttributeValues"]
    assert values == {":d": {"N": "7"}, ":n": {"S": "Alice"}, ":hi": {"S": seq_key(30)}, ":lo": {"S": seq_key(10)}}
    assert requests.added(request) == 7


def test_a_score_retry_adds_only_what_is_above_the_stored_marker_and_leaves_the_request_alone():
    request = requests.score_update("scores", ("u1", "merchant"), a_move(), MARKER)
    sent = copy.deepcopy(request)
    old = {"userId": {"S": "u1"}, "role": {"S": "merchant"}, "score": {"N": "3"}, MARKER: {"S": seq_key(20)}}
    retry = requests.score_retry(request, old, a_move(), MARKER)
    assert request == sent  # the request that failed is unchanged
    assert retry is not request and retry["ExpressionAttributeValues"] is not request["ExpressionAttributeValues"]
    assert requests.added(retry) == 4  # only the contribution at 30
    assert retry["ConditionExpression"] == "#m = :old"
    assert retry["ExpressionAttributeValues"][":old"] == {"S": seq_key(20)}
    assert ":lo" not in retry["ExpressionAttributeValues"]
    assert retry["ExpressionAttributeValues"][":hi"] == {"S": seq_key(30)}
    assert {k: v for k, v in retry.items() if k not in ("ConditionExpression", "ExpressionAttributeValues")} == \
        {k: v for k, v in sent.items() if k not in ("ConditionExpression", "ExpressionAttributeValues")}


def test_a_score_retry_is_none_once_every_contribution_landed():
    request = requests.score_update("scores", ("u1", "merchant"), a_move(), MARKER)
    old = {"score": {"N": "7"}, MARKER: {"S": seq_key(30)}}
    assert requests.score_retry(request, old, a_move(), MARKER) is None


def test_a_score_retry_on_an_item_without_a_marker_adds_everything_if_it_is_still_absent():
    first = requests.score_update("scores", ("u1", "merchant"), a_move(), MARKER)
    second = requests.score_retry(first, {MARKER: {"S": seq_key(10)}}, a_move(), MARKER)
    sent = copy.deepcopy(second)
    third = requests.score_retry(second, {"score": {"N": "1"}}, a_move(), MARKER)
    assert second == sent
    assert third["ConditionExpression"] == "attribute_not_exists(#m)"
    assert ":old" not in third["ExpressionAttributeValues"] and requests.added(third) == 7


def test_a_product_update_sets_new_contributors_and_adds_purchases_if_its_marker_is_the_one_read():
    first = Record(40, "40", "e40", "product-create", product="p1", user="u1", name="Alice")
    update = ProductUpdate(before=ProductState(marker_key=seq_key(30)), first=first, last_seq=45,
                           merchant=("u1", "Alice"), purchases=2)
    request = requests.product_update("contributions", "p1", update, MARKER)
    assert request["Key"] == {"productId": {"S": "p1"}}
    assert request["UpdateExpression"] == "SET #m = :new, merchant = :merchant, merchantName = :merchantName ADD purchases :p"
    assert request["ConditionExpression"] == "#m = :old"
    assert request["ExpressionAttributeValues"] == {
        ":p": {"N": "2"}, ":new": {"S": seq_key(45)}, ":merchant": {"S": "u1"}, ":merchantName": {"S": "Alice"},
        ":old": {"S": seq_key(30)}}
    fresh = ProductUpdate(before=ProductState(), first=first, last_seq=45, purchases=1)
    fresh_request = requests.product_update("contributions", "p1", fresh, MARKER)
    assert fresh_request["ConditionExpression"] == "attribute_not_exists(#m)"
    assert ":old" not in fresh_request["ExpressionAttributeValues"]


def test_a_score_update_is_the_request_dynamodb_receives():
    """Every field: ALL_NEW prices the write from the new item, ALL_OLD lets a retry read the stored marker
    without another read, TOTAL reports the consumed capacity for the log line."""
    assert requests.score_update("scores", ("u1", "merchant"), a_move(), MARKER) == {
        "TableName": "scores",
        "Key": {"userId": {"S": "u1"}, "role": {"S": "merchant"}},
        "UpdateExpression": "ADD score :d SET #n = if_not_exists(#n, :n), #m = :hi",
        "ConditionExpression": "attribute_not_exists(#m) OR #m < :lo",
        "ExpressionAttributeNames": {"#n": "name", "#m": MARKER},
        "ExpressionAttributeValues": {":d": {"N": "7"}, ":n": {"S": "Alice"}, ":hi": {"S": seq_key(30)},
                                      ":lo": {"S": seq_key(10)}},
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        "ReturnConsumedCapacity": "TOTAL",
    }


def test_a_product_update_is_the_request_dynamodb_receives():
    first = Record(40, "40", "e40", "create", product="p1", user="u1", name="Alice")
    update = ProductUpdate(before=ProductState(marker_key=seq_key(30)), first=first, last_seq=45,
                           merchant=("u1", "Alice"), photographer=("u2", "Bo"), purchases=2)
    assert requests.product_update("contributions", "p1", update, MARKER) == {
        "TableName": "contributions",
        "Key": {"productId": {"S": "p1"}},
        "UpdateExpression": ("SET #m = :new, merchant = :merchant, merchantName = :merchantName, "
                             "photographer = :photographer, photographerName = :photographerName ADD purchases :p"),
        "ConditionExpression": "#m = :old",
        "ExpressionAttributeNames": {"#m": MARKER},
        "ExpressionAttributeValues": {
            ":p": {"N": "2"}, ":new": {"S": seq_key(45)}, ":merchant": {"S": "u1"}, ":merchantName": {"S": "Alice"},
            ":photographer": {"S": "u2"}, ":photographerName": {"S": "Bo"}, ":old": {"S": seq_key(30)}},
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        "ReturnConsumedCapacity": "TOTAL",
    }


def test_a_reject_put_is_the_item_the_rejects_table_keeps():
    record = Record(7, "7", f"{SHARD}:7", "reject", reason="not-json: record is not valid JSON", payload=b"{oops")
    assert requests.reject_put(record, SHARD, "2026-01-01T00:00:00.000+00:00") == {"PutRequest": {"Item": {
        "eventId": {"S": f"{SHARD}:7"},
        "reason": {"S": "not-json: record is not valid JSON"},
        "payload": {"S": "{oops"},
        "payloadEncoding": {"S": "utf-8"},
        "shardId": {"S": SHARD},
        "sequenceNumber": {"S": "7"},
        "rejectedAt": {"S": "2026-01-01T00:00:00.000+00:00"},
    }}}


def kept(payload):
    """(payload text, encoding) the Rejects table keeps of a record's data."""
    item = requests.reject_put(Record(1, "1", "e1", "reject", reason="r", payload=payload), SHARD, "t")
    return item["PutRequest"]["Item"]["payload"]["S"], item["PutRequest"]["Item"]["payloadEncoding"]["S"]


def test_a_payload_of_exactly_the_limit_is_kept_whole_and_one_byte_more_is_cut():
    limit = requests.PAYLOAD_LIMIT
    assert kept(b"x" * limit) == ("x" * limit, "utf-8")
    assert kept(b"x" * (limit + 1)) == ("x" * limit + "...[truncated 1 bytes]", "utf-8")
    binary = b"\xff" * (limit + 1)
    assert kept(binary) == (base64.b64encode(binary[:limit]).decode() + "...[truncated 1 bytes]", "base64")


def test_a_cut_never_splits_a_character_in_two():
    text, encoding = kept(b"x" * (requests.PAYLOAD_LIMIT - 1) + "\u00e9\u00e9".encode())
    assert (text, encoding) == ("x" * (requests.PAYLOAD_LIMIT - 1) + "...[truncated 4 bytes]", "utf-8")


@pytest.mark.parametrize("data,text", [("@@@", "@@@"), ("@@\ud800@", "@@?@"), ("@" * (requests.PAYLOAD_LIMIT + 2),
                                       "@" * requests.PAYLOAD_LIMIT + "...[truncated 2 bytes]")])
def test_a_record_whose_data_is_not_even_base64_keeps_the_text_itself(data, text):
    """Lambda hands the data as JSON text, which may hold a lone surrogate: it is kept, replaced, not lost."""
    assert kept(data) == (text, "utf-8")


def test_a_first_score_request_that_failed_on_an_item_without_a_marker_is_retried_whole():
    first = requests.score_update("scores", ("u1", "merchant"), a_move(), MARKER)
    retry = requests.score_retry(first, {"score": {"N": "2"}}, a_move(), MARKER)
    assert retry["ConditionExpression"] == "attribute_not_exists(#m)" and requests.added(retry) == 7
    assert set(retry["ExpressionAttributeValues"]) == {":d", ":n", ":hi"}
