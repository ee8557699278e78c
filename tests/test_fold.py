"""The consumer's pure core: decoding Lambda Kinesis records and folding a batch into planned writes."""

import pytest
from consumer_delivery import event_of
from hypothesis import given, settings
from hypothesis import strategies as st
from properties import examples

from hello_winners import events
from hello_winners.view.delivery import kinesis_record
from hello_winners.view.fold import (
    ProductState,
    decode_batch,
    decode_record,
    fold,
    seq_key,
    seq_of,
)

SHARD = "shardId-000000000000"


def batch(*items, start=1):
    raws = [kinesis_record(SHARD, start + i, item if isinstance(item, bytes) else events.encode(item))
            for i, item in enumerate(items)]
    return decode_batch({"Records": raws})[1]


def create(user, product):
    return events.product_create(user, user.upper(), product, brand="B", name="N", description="D", category="C")


def image(user, product):
    return events.product_image(user, user.upper(), product, "https://img")


def purchase(product):
    return events.product_purchase("c", "C", product)


@given(st.integers(0, 10**129 - 1), st.integers(0, 10**129 - 1))
def test_stored_sequence_numbers_sort_as_text_in_numeric_order(a, b):
    assert (seq_key(a) < seq_key(b)) == (a < b)
    assert seq_of(seq_key(a)) == a


def test_a_purchase_before_its_contributors_is_credited_when_they_arrive():
    plan = fold(batch(purchase("p1"), purchase("p1"), create("m1", "p1"), purchase("p1"), image("ph", "p1")), {})
    assert plan.scores[("m1", "merchant")].contributions == [(3, 2, "p1"), (4, 1, "p1")]
    assert plan.scores[("ph", "photographer")].contributions == [(5, 3, "p1")]
    update = plan.products["p1"]
    assert (update.merchant, update.photographer, update.purchases, update.last_seq) == (("m1", "M1"), ("ph", "PH"), 3, 5)


def test_records_at_or_below_the_products_marker_are_skipped_as_duplicates():
    state = ProductState(merchant="m1", merchant_name="M1", purchases=1, marker_key=seq_key(2))
    plan = fold(batch(create("m1", "p1"), purchase("p1"), purchase("p1")), {"p1": state})
    assert plan.duplicates == 2 and plan.applied == 1
    assert plan.scores[("m1", "merchant")].contributions == [(3, 1, "p1")]
    assert plan.products["p1"].first.seq == 3 and plan.products["p1"].purchases == 1


def test_a_later_create_or_image_is_a_conflict_that_says_by_whom():
    plan = fold(batch(create("m1", "p1"), create("m1", "p1"), create("m2", "p1"), image("a", "p1"), image("b", "p1")), {})
    reasons = [r.reason for r in plan.rejects]
    assert [r.seq for r in plan.rejects] == [2, 3, 5]
    assert "the same merchant" in reasons[0] and "another merchant (m2)" in reasons[1]
    assert reasons[2].startswith("conflict: product p1 already has photographer a")
    assert plan.scores == {}


def test_a_stored_contributor_makes_a_new_one_a_conflict():
    plan = fold(batch(create("m2", "p1"), purchase("p1")), {"p1": ProductState(merchant="m1", merchant_name="M1")})
    assert plan.rejects[0].reason.startswith("conflict") and list(plan.scores) == [("m1", "merchant")]


def test_a_create_whose_origin_names_nobody_changes_nothing():
    nobody = dict(create("m1", "p1"), origin="hello-retail")
    plan = fold(batch(purchase("p1"), nobody, create("m2", "p1")), {})
    assert plan.rejects[0].reason.startswith("no-origin")
    assert plan.scores[("m2", "merchant")].contributions == [(3, 1, "p1")]


def test_views_are_ignored_and_change_no_product():
    plan = fold(batch(events.product_view("c", "C", "p1"), events.category_view("c", "C", "Shoes")), {})
    assert (plan.ignored, plan.applied, plan.products, plan.rejects) == (2, 0, {}, [])


def test_a_contributors_name_is_the_one_on_their_earliest_contribution_in_the_batch():
    plan = fold(batch(purchase("p2"), purchase("p1"), create("m1", "p1"),
                      events.product_create("m1", "Other", "p2", brand="B", name="N", description="D", category="C")), {})
    assert plan.scores[("m1", "merchant")].name == "M1"


@pytest.mark.parametrize("data, code", [
    ("@@@", "bad-base64"),
    (b"\xff\xfe", "not-json"),
    (b"[1]", "not-json"),
    (b'{"schema": "x"}', "schema"),
    (events.encode(dict(purchase("p1"), data={"schema": "com.example/other/1-0-0", "id": "1"})), "unknown-schema"),
    (events.encode(dict(purchase("p1"), data={"schema": events.PRODUCT_PURCHASE})), "schema"),
])
def test_a_record_that_can_never_apply_is_a_reject_with_its_reason(data, code):
    raw = kinesis_record(SHARD, 7, data if isinstance(data, bytes) else b"")
    if isinstance(data, str):
        raw["kinesis"]["data"] = data
    record = decode_record(raw)
    assert record.kind == "reject" and record.reason.split(":")[0] == code
    assert record.event_id == f"{SHARD}:7" and record.sequence_number == "7"


def test_a_batch_is_put_in_shard_order_and_a_repeated_record_kept_once():
    raws = [kinesis_record(SHARD, s, events.encode(purchase("p1"))) for s in (12, 3, 12, 100)]
    shard, records = decode_batch({"Records": raws})
    assert shard == SHARD and [r.seq for r in records] == [3, 12, 100]


def test_a_batch_of_two_shards_is_refused():
    raws = [kinesis_record(SHARD, 1, b"{}"), kinesis_record("shardId-000000000001", 2, b"{}")]
    with pytest.raises(ValueError, match="one shard"):
        decode_batch({"Records": raws})


@settings(max_examples=examples(40))
@given(st.lists(st.tuples(st.sampled_from(["create", "image", "purchase", "nobody", "view", "garbage"]),
                          st.sampled_from(["p1", "p2", "p3"]), st.sampled_from(["u1", "u2"])), max_size=12),
       st.dictionaries(st.sampled_from(["p1", "p2", "p3"]), st.integers(0, 12)))
def test_every_record_of_a_batch_is_applied_skipped_ignored_or_rejected_exactly_once(items, markers):
    """The plan's tallies are the log line's: each record counts once, in one of the four, whatever the batch."""
    records = batch(*(event_of(*item) for item in items))
    plan = fold(records, {p: ProductState(marker_key=seq_key(m)) for p, m in markers.items()})
    assert plan.applied + plan.duplicates + plan.ignored + len(plan.rejects) == len(records)
    assert all(r.kind == "reject" and r.reason for r in plan.rejects)


def test_duplicates_of_several_products_add_up():
    states = {"p1": ProductState(marker_key=seq_key(2)), "p2": ProductState(marker_key=seq_key(4))}
    plan = fold(batch(purchase("p1"), purchase("p2"), purchase("p2"), purchase("p2"), purchase("p1")), states)
    assert (plan.duplicates, plan.applied) == (4, 1)


def test_a_stored_contributor_is_credited_under_their_stored_name():
    state = ProductState(merchant="m1", merchant_name="Mia", photographer="ph", photographer_name="Pat", purchases=3)
    plan = fold(batch(purchase("p1")), {"p1": state})
    assert {key: move.name for key, move in plan.scores.items()} == {("m1", "merchant"): "Mia",
                                                                      ("ph", "photographer"): "Pat"}
    unnamed = fold(batch(purchase("p1")), {"p1": ProductState(merchant="m1")})
    assert unnamed.scores[("m1", "merchant")].name == "m1"


def test_a_conflict_is_rejected_as_the_record_it_was():
    records = batch(create("m1", "p1"), create("m2", "p1"))
    plan = fold(records, {})
    [reject] = plan.rejects
    original = records[1]
    assert (reject.kind, reject.seq, reject.sequence_number, reject.event_id, reject.product, reject.payload) == \
        ("reject", original.seq, original.sequence_number, original.event_id, "p1", original.payload)
    assert reject.reason == ("conflict: product p1 already has merchant m1; this later create is by another "
                             "merchant (m2) and changes nothing")


@pytest.mark.parametrize("schema", [[], {"a": 1}, 3, None, ""])
def test_a_record_whose_data_schema_is_not_an_id_is_a_schema_reject(schema):
    """Not a well-formed id: the record is malformed (schema), not of a kind the kit does not know."""
    event = purchase("p1")
    event["data"]["schema"] = schema
    record = decode_record(kinesis_record(SHARD, 7, events.encode(event)))
    assert record.kind == "reject" and record.reason.split(":")[0] == "schema"
    assert "data.schema" in record.reason


def test_a_record_without_a_data_schema_is_a_schema_reject():
    event = purchase("p1")
    del event["data"]["schema"]
    record = decode_record(kinesis_record(SHARD, 7, events.encode(event)))
    assert record.reason == f"schema: event does not match {events.ENVELOPE_INGRESS}: data.schema is required"


@pytest.mark.parametrize("kind", ["create", "image", "purchase", "view"])
def test_a_decoded_record_keeps_its_identity(kind):
    raw = kinesis_record(SHARD, 12, events.encode(event_of(kind, "p1", "u1")))
    record = decode_record(raw)
    assert (record.seq, record.sequence_number, record.event_id, record.product) == (12, "12", f"{SHARD}:12", "p1")


@pytest.mark.parametrize("uid,kept", [("\U0001F600" * 512, True), ("\U0001F600" * 511 + "abcd", True),
                                      ("\U0001F600" * 512 + "a", False)])
def test_a_contributor_id_of_up_to_2048_bytes_scores_a_longer_one_names_nobody(uid, kept):
    """DynamoDB keys a score by userId: 2048 bytes at most."""
    made = events.product_create(uid, "N", "p1", brand="B", name="N", description="D", category="C")
    record = decode_record(kinesis_record(SHARD, 1, events.encode(made)))
    assert (record.user == uid) is kept
    plan = fold([record], {})
    assert [r.reason.split(":")[0] for r in plan.rejects] == ([] if kept else ["no-origin"])
