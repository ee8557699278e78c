"""The consumer's pure core: decoding Lambda Kinesis records and folding a batch into planned writes."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
