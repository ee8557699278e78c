"""Events: the schemas accept the original's events and reject bad ones in one line; origins; records."""

import copy
import functools
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hello_winners import events as E
from hello_winners.events import validation
from hello_winners.errors import EventError

# The original's example events (hello-retail scripts/*.json), as written to the stream.
ORIGINAL_CREATE = {
    "schema": "com.nordstrom/retail-stream-ingress/1-0-0",
    "origin": "scripts/put-retail-stream-event",
    "timeOrigin": "2017-02-21T23:27:56.673Z",
    "data": {
        "schema": "com.nordstrom/product/create/1-0-0",
        "id": "9000000",
        "brand": "Scripted Brand",
        "name": "Scripted Name",
        "description": "This product came from the put-retail-stream-event script.",
        "category": "Test Script Category",
    },
}
ORIGINAL_IMAGE = {
    "schema": "com.nordstrom/retail-stream-ingress/1-0-0",
    "origin": "scripts/put-retail-stream-event/Lauren.Wang@nordstrom.com/lauren",
    "timeOrigin": "2017-02-21T23:27:56.673Z",
    "data": {"schema": "com.nordstrom/product/image/1-0-0", "id": "9000001", "image": "PolarBear.jpg"},
}
ORIGINAL_PURCHASE = {
    "schema": "com.nordstrom/retail-stream-ingress/1-0-0",
    "origin": "scripts/put-retail-stream-event/Lauren.Wang@nordstrom.com/lauren",
    "timeOrigin": "2017-02-21T23:27:56.673Z",
    "data": {"schema": "com.nordstrom/product/purchase/1-0-0", "id": "9000001"},
}
T = "2017-06-13T16:00:00.000Z"
BUILT = {
    "create": E.product_create("amzn1.account.AH1", "Erik", "9000002", brand="Northwind", name="Tee",
                               description="A tee.", category="Tops", price="19.95", time=T),
    "image": E.product_image("amzn1.account.AH2", "Priya", "9000002", "IMG_1.jpg", time=T),
    "purchase": E.product_purchase("amzn1.account.AH3", "Sam", "9000002", time=T),
    "product-view": E.product_view("amzn1.account.AH3", "Sam", "9000002", time=T),
    "category-view": E.category_view("amzn1.account.AH3", "Sam", "Tops", time=T),
}


def egress(event):
    return {**event, "schema": E.ENVELOPE_EGRESS, "eventId": "shardId-000000000000:" + "4" * 56,
            "timeIngest": "2017-02-21T23:27:57.001Z", "timeProcess": "2017-02-21T23:27:57.100Z"}


def rejected(event):
    with pytest.raises(EventError) as caught:
        E.validate(event)
    message = str(caught.value)
    assert "\n" not in message
    return caught.value


@pytest.mark.parametrize("event", [ORIGINAL_CREATE, ORIGINAL_IMAGE, ORIGINAL_PURCHASE],
                         ids=["create", "image", "purchase"])
def test_the_originals_example_events_are_valid_in_both_envelopes(event):
    assert E.validate(event) is event
    assert E.validate(egress(event))


@pytest.mark.parametrize("name", list(BUILT))
def test_each_builder_makes_a_valid_event_of_its_kind(name):
    event = BUILT[name]
    assert E.kind(E.validate(event)) == name
    assert E.parse_origin(event["origin"])[1] in {"Erik", "Priya", "Sam"}


def test_every_schema_id_has_its_file_and_a_kind():
    assert set(E.schema_ids()) == {E.ENVELOPE_INGRESS, E.ENVELOPE_EGRESS, *E.KINDS}
    assert sorted(p.name for p in validation.SCHEMA_DIR.glob("*.json")) == sorted([
        "retail-stream-ingress-1-0-0.json", "retail-stream-egress-1-0-0.json", "product-create-1-0-0.json",
        "product-image-1-0-0.json", "product-purchase-1-0-0.json", "product-view-1-0-0.json",
        "category-view-1-0-0.json"])
    assert set(E.KINDS.values()) == set(BUILT)


REQUIRED = [(name, field) for name, event in BUILT.items() for field in event["data"] if field != "schema"
            and field != "price"]


@pytest.mark.parametrize("name,field", REQUIRED)
def test_a_missing_data_field_names_the_schema_and_the_field(name, field):
    event = copy.deepcopy(BUILT[name])
    del event["data"][field]
    error = rejected(event)
    assert error.schema == event["data"]["schema"] and error.field == f"data.{field}"
    assert str(error) == f"event does not match {event['data']['schema']}: data.{field} is required"


@pytest.mark.parametrize("field", ["schema", "origin", "timeOrigin", "data"])
def test_a_missing_envelope_field_is_named(field):
    event = copy.deepcopy(BUILT["purchase"])
    del event[field]
    error = rejected(event)
    assert error.field == field
    if field != "schema":
        assert str(error) == f"event does not match {E.ENVELOPE_INGRESS}: {field} is required"


@pytest.mark.parametrize("path,value,message", [
    (("data", "id"), 9000002, "data.id must be a string"),
    (("data", "price"), 19.95, "data.price must be a string"),
    (("origin",), ["a"], "origin must be a string"),
    (("data",), "purchase", "data must be an object"),
    (("timeOrigin",), "yesterday", "timeOrigin is not well formed"),
    (("timeOrigin",), "2017-06-13 16:00", "timeOrigin is not well formed"),
    (("data", "name"), "", "data.name must be 1 to 256 characters long"),
])
def test_a_wrong_type_or_format_names_the_field(path, value, message):
    event = copy.deepcopy(BUILT["create"])
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert message in str(rejected(event))


def test_an_extra_envelope_property_is_rejected():
    error = rejected({**BUILT["purchase"], "followsFrom": "x"})
    assert str(error) == f"event does not match {E.ENVELOPE_INGRESS}: followsFrom is not allowed"
    assert error.field == "followsFrom"


def test_an_extra_data_property_is_rejected_as_in_the_original():
    event = copy.deepcopy(BUILT["purchase"])
    event["data"]["quantity"] = "2"
    error = rejected(event)
    assert (error.schema, error.field) == (E.PRODUCT_PURCHASE, "data.quantity")


def test_an_unknown_data_schema_is_named():
    event = copy.deepcopy(BUILT["purchase"])
    event["data"]["schema"] = "com.nordstrom/product/return/1-0-0"
    error = rejected(event)
    assert "unknown data schema com.nordstrom/product/return/1-0-0" in str(error)
    assert error.field == "data.schema"


def test_an_unknown_envelope_is_named():
    error = rejected({**BUILT["purchase"], "schema": "com.nordstrom/retail-stream-ingress/2-0-0"})
    assert "unknown envelope schema com.nordstrom/retail-stream-ingress/2-0-0" in str(error)


def test_the_egress_envelope_needs_its_own_fields():
    event = egress(BUILT["purchase"])
    del event["eventId"]
    assert str(rejected(event)) == f"event does not match {E.ENVELOPE_EGRESS}: eventId is required"
    assert "eventId is not allowed" in str(rejected({**BUILT["purchase"], "eventId": "shardId-000000000000:1"}))


@pytest.mark.parametrize("kind", sorted(BUILT))
def test_the_data_inside_an_egress_envelope_is_held_to_its_own_schema(kind):
    """Egress events carry the same data as ingress ones: a data object that breaks its schema is refused in both."""
    event = egress(copy.deepcopy(BUILT[kind]))
    event["data"]["coupon"] = "FREE"
    error = rejected(event)
    assert (error.schema, error.field) == (event["data"]["schema"], "data.coupon")
    del event["data"]["coupon"], event["data"]["id" if "id" in event["data"] else "category"]
    assert "is required" in str(rejected(event))


@pytest.mark.parametrize("envelope", ["ingress", "egress"])
@pytest.mark.parametrize("time", ["2017-02-21T23:27:56.673", "2017-02-21T23:27:56", "2017-02-21T23:27:56.673+0100",
                                  "2017-02-21T23:27Z", "2017-02-21"])
def test_a_time_without_a_zone_or_seconds_is_refused(envelope, time):
    """Without a zone a time is ambiguous across the room's laptops: the schema requires one, and seconds."""
    event = copy.deepcopy(BUILT["purchase"])
    event = egress(event) if envelope == "egress" else event
    event["timeOrigin"] = time
    assert "timeOrigin is not well formed" in str(rejected(event))
    for zoned in ("2017-02-21T23:27:56.673Z", "2017-02-21T23:27:56+01:00", "2017-02-21T23:27:56.123456789-08:00"):
        event["timeOrigin"] = zoned
        assert E.validate(event) is event


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_validate_raises_only_event_error_for_any_json_value(value):
    with pytest.raises(EventError):
        E.validate(value)


@given(st.sampled_from(list(BUILT.values())), st.lists(st.sampled_from(["schema", "origin", "timeOrigin", "data", "id", "x"]), min_size=1, max_size=3),
       json_values | st.integers() | st.just(object()) | st.just(("a", 1)))
def test_validate_raises_only_event_error_for_any_mutated_event(event, path, value):
    event = copy.deepcopy(event)
    target = event
    for key in path[:-1]:
        target = target.setdefault(key, {}) if isinstance(target, dict) else target
    if isinstance(target, dict):
        target[path[-1]] = value
    try:
        E.validate(event)
    except EventError as error:
        assert "\n" not in str(error)


@pytest.mark.parametrize("value", [
    {3: "x", **BUILT["purchase"]},
    {"schema": E.ENVELOPE_INGRESS, "origin": "a/b", "timeOrigin": T, "data": {"schema": {"nested": []}}},
    {**BUILT["purchase"], "data": {"schema": E.PRODUCT_PURCHASE, "id": "x" * 10_000_000}},
    {**BUILT["purchase"], "precursors": functools.reduce(lambda inner, _: [inner], range(5000), [])},
    functools.reduce(lambda inner, _: {"data": inner}, range(5000), {}),
])
def test_validate_survives_odd_keys_nesting_and_size(value):
    rejected(value)


@pytest.mark.parametrize("origin,expected", [
    ("hello-retail/product-producer-creator/amzn1.account.AH1/Erik", ("amzn1.account.AH1", "Erik")),
    ("scripts/put-retail-stream-event/Lauren.Wang@nordstrom.com/lauren", ("Lauren.Wang@nordstrom.com", "lauren")),
    ("hello-retail/product-consumer-customer/amzn1.account.AH1", ("amzn1.account.AH1", "amzn1.account.AH1")),
    ("hello-retail/role/id/", ("id", "id")),
    ("w/r/id/name/more/parts", ("id", "name")),
    ("scripts/put-retail-stream-event", ("put-retail-stream-event", "put-retail-stream-event")),
    ("scripts", None),
    ("", None),
    ("scripts/", None),
    ("w/r//name", None),
    (None, None),
    (42, None),
])
def test_origins_parse_by_the_original_apis_rules(origin, expected):
    assert E.parse_origin(origin) == expected


safe = st.text(st.characters(blacklist_characters="/", blacklist_categories=("Cs",)), min_size=1, max_size=30)


@given(safe, safe, safe)
def test_origin_and_parse_origin_round_trip(role, uid, name):
    assert E.parse_origin(E.origin(role, uid, name)) == (uid, name)


@pytest.mark.parametrize("part", ["", "a/b", None])
def test_origin_refuses_parts_that_would_not_parse_back(part):
    with pytest.raises(EventError):
        E.origin("product-consumer-customer", part, "Erik")


def test_times_are_utc_with_milliseconds():
    local = datetime(2017, 6, 13, 18, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert E.product_view("AH1", "Sam", "1", time=local)["timeOrigin"] == "2017-06-13T16:00:00.123Z"
    assert E.product_view("AH1", "Sam", "1", time=datetime(2017, 6, 13))["timeOrigin"] == "2017-06-13T00:00:00.000Z"
    now = E.validate(E.product_view("AH1", "Sam", "1"))["timeOrigin"]
    assert now.startswith(str(datetime.now(timezone.utc).year))
    with pytest.raises(EventError):
        E.product_view("AH1", "Sam", "1", time=1497369600)


@given(st.sampled_from(list(BUILT.values())), safe)
def test_encode_and_decode_round_trip(event, text):
    event = {**event, "origin": f"hello-retail/r/{text}/{text}"}
    data = E.encode(event)
    assert data == json.dumps(event, separators=(",", ":")).encode("utf-8")
    assert E.decode(data) == event


@pytest.mark.parametrize("data", [b"\xff\xfe{}", b"not json", b"[1, 2]", b'"text"', b"", "{}", None,
                                  b"[" * 100_000 + b"]" * 100_000, b'{"a": 1} trailing'])
def test_decode_refuses_anything_but_a_utf8_json_object(data):
    with pytest.raises(EventError):
        E.decode(data)


def test_decode_does_not_validate():
    assert E.decode(b'{"anything": 1}') == {"anything": 1}


def test_kind_needs_a_known_data_schema():
    with pytest.raises(EventError):
        E.kind({"data": {"schema": "x"}})
