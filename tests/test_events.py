"""Events: the schemas accept the original's events and reject bad ones in one line; origins; records."""

import copy
import functools
import json
import time
from datetime import datetime, timedelta, timezone

import fastjsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from properties import examples

from hello_winners import events as E
from hello_winners.events import encoding, validation
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


def build():
    """One event of each kind, as the builders make them."""
    return {
        "create": E.product_create("amzn1.account.AH1", "Erik", "9000002", brand="Northwind", name="Tee",
                                   description="A tee.", category="Tops", price="19.95", time=T),
        "image": E.product_image("amzn1.account.AH2", "Priya", "9000002", "IMG_1.jpg", time=T),
        "purchase": E.product_purchase("amzn1.account.AH3", "Sam", "9000002", time=T),
        "product-view": E.product_view("amzn1.account.AH3", "Sam", "9000002", time=T),
        "category-view": E.category_view("amzn1.account.AH3", "Sam", "Tops", time=T),
    }


BUILT = build()


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


IN, CREATE = E.ENVELOPE_INGRESS, E.PRODUCT_CREATE


@pytest.mark.parametrize("path,value,schema,said", [
    (("data", "id"), 9000002, CREATE, "data.id must be a string"),
    (("data", "id"), [], CREATE, "data.id must be a string"),
    (("data", "id"), "9" * 257, CREATE, "data.id must be 1 to 256 characters long"),
    (("data", "price"), 19.95, CREATE, "data.price must be a string"),
    (("data", "name"), "", CREATE, "data.name must be 1 to 256 characters long"),
    (("data",), "purchase", IN, "data must be an object"),
    (("data", "schema"), 3, IN, "data.schema must be a string"),
    (("data", "schema"), "", IN, "data.schema must not be empty"),
    (("origin",), ["a"], IN, "origin must be a string"),
    (("origin",), {"a": 1}, IN, "origin must be a string"),
    (("origin",), "o" * 1025, IN, "origin must be 1 to 1024 characters long"),
    (("timeOrigin",), "yesterday", IN, "timeOrigin is not well formed (see the schema's pattern)"),
    (("timeOrigin",), "2017-06-13 16:00", IN, "timeOrigin is not well formed (see the schema's pattern)"),
    (("precursors",), "x", IN, "precursors must be an array"),
    (("precursors",), ["a", 2], IN, "precursors.1 must be a string"),
])
def test_a_wrong_type_format_or_length_names_the_field_by_its_full_path(path, value, schema, said):
    event = copy.deepcopy(BUILT["create"])
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    error = rejected(event)
    assert str(error) == f"event does not match {schema}: {said}"
    assert (error.schema, error.field) == (schema, said.split(" ")[0])


def test_an_extra_envelope_property_is_rejected():
    error = rejected({**BUILT["purchase"], "followsFrom": "x"})
    assert str(error) == f"event does not match {E.ENVELOPE_INGRESS}: followsFrom is not allowed"
    assert error.field == "followsFrom"


def test_an_extra_data_property_is_rejected_as_in_the_original():
    event = copy.deepcopy(BUILT["purchase"])
    event["data"]["quantity"] = "2"
    error = rejected(event)
    assert (error.schema, error.field) == (E.PRODUCT_PURCHASE, "data.quantity")


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


def test_decode_does_not_validate():
    assert E.decode(b'{"anything": 1}') == {"anything": 1}




def test_each_builder_writes_the_originals_shape_field_by_field():
    """What a producer puts on the stream: the original's envelope and data fields, the time as given.
    Built here rather than at import, so the builders are checked as they are when the test runs."""
    def built(role, uid, name, data):
        return {"schema": E.ENVELOPE_INGRESS, "origin": f"hello-retail/{role}/{uid}/{name}", "timeOrigin": T,
                "data": data}

    assert build() == {
        "create": built(E.ROLE_MERCHANT, "amzn1.account.AH1", "Erik", {
            "schema": E.PRODUCT_CREATE, "id": "9000002", "brand": "Northwind", "name": "Tee",
            "description": "A tee.", "category": "Tops", "price": "19.95"}),
        "image": built(E.ROLE_PHOTOGRAPHER, "amzn1.account.AH2", "Priya",
                       {"schema": E.PRODUCT_IMAGE, "id": "9000002", "image": "IMG_1.jpg"}),
        "purchase": built(E.ROLE_CUSTOMER, "amzn1.account.AH3", "Sam", {"schema": E.PRODUCT_PURCHASE, "id": "9000002"}),
        "product-view": built(E.ROLE_CUSTOMER, "amzn1.account.AH3", "Sam", {"schema": E.PRODUCT_VIEW, "id": "9000002"}),
        "category-view": built(E.ROLE_CUSTOMER, "amzn1.account.AH3", "Sam",
                               {"schema": E.CATEGORY_VIEW, "category": "Tops"}),
    }
    unpriced = E.product_create("AH1", "Erik", "1", brand="B", name="N", description="D", category="C", time=T)
    assert "price" not in unpriced["data"] and E.validate(unpriced)


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=st.none() | st.timezones()))
def test_a_time_is_written_in_utc_to_the_millisecond_as_the_schema_wants(moment):
    """A zoned time is converted to UTC, a naive one taken as UTC; the milliseconds are cut, never rounded up."""
    written = E.format_time(moment)
    utc = moment if moment.tzinfo is None else moment.astimezone(timezone.utc).replace(tzinfo=None)
    assert written == utc.replace(microsecond=utc.microsecond // 1000 * 1000).isoformat(timespec="milliseconds") + "Z"
    assert E.validate({**BUILT["purchase"], "timeOrigin": written})
    assert E.parse_time(written) == utc.replace(microsecond=utc.microsecond // 1000 * 1000, tzinfo=timezone.utc)


@pytest.mark.parametrize("text,moment", [
    ("2017-02-21T23:27:56.673Z", datetime(2017, 2, 21, 23, 27, 56, 673000, tzinfo=timezone.utc)),
    ("2017-02-21T23:27:56.123456789+02:00", datetime(2017, 2, 21, 21, 27, 56, 123456, tzinfo=timezone.utc)),
    ("2017-02-21T23:27:56.5-03:30", datetime(2017, 2, 22, 2, 57, 56, 500000, tzinfo=timezone.utc)),
    ("2017-02-21T23:27:56+10:45", datetime(2017, 2, 21, 12, 42, 56, tzinfo=timezone.utc)),
    ("2017-02-21T23:27:56z", datetime(2017, 2, 21, 23, 27, 56, tzinfo=timezone.utc)),
    ("2017-02-21 23:27", datetime(2017, 2, 21, 23, 27, tzinfo=timezone.utc)),
    ("2017-02-21", datetime(2017, 2, 21, tzinfo=timezone.utc)),
])
def test_a_time_in_any_form_the_schema_allows_is_read_alike_on_every_python(text, moment):
    """Fractions of 1 to 9 digits and any offset, as the schema's pattern allows; no zone means UTC."""
    assert E.parse_time(text) == moment


@pytest.mark.parametrize("text", ["13 June 2017", "2017-06-13T16:00:00ZZ", "2017-13-01T00:00:00Z",
                                  "2017-06-13Z", "2017-06-13T16:00:00.Z", "", "2017-06-13T16:00:00+24:00",
                                  1497369600, None])
def test_a_time_that_is_not_iso_8601_is_refused_in_one_sentence(text):
    with pytest.raises(EventError, match=r"is not an ISO-8601 time; write it as 2017-06-13T16:00:00Z\.$"):
        E.parse_time(text)


@pytest.fixture
def laptop_zone(monkeypatch):
    """The process's local zone set to one far from UTC, as a participant's laptop may be."""
    monkeypatch.setenv("TZ", "America/St_Johns")  # UTC-3:30 (-2:30 in summer): no offset of a whole hour
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_times_are_utc_whatever_the_laptops_zone(laptop_zone):
    assert datetime.now().utcoffset() is None and time.localtime().tm_gmtoff != 0
    before = datetime.now(timezone.utc)
    now = E.parse_time(E.format_time())
    assert before - timedelta(milliseconds=1) <= now <= datetime.now(timezone.utc)
    assert E.format_time(datetime(2017, 6, 13, 18, tzinfo=timezone(timedelta(hours=2)))) == "2017-06-13T16:00:00.000Z"


@pytest.mark.parametrize("value,name", [(1497369600, "int"), (b"2017", "bytes")])
def test_a_time_of_another_type_is_refused_in_one_sentence(value, name):
    with pytest.raises(EventError) as caught:
        E.format_time(value)
    assert str(caught.value) == (f"time must be a datetime or an ISO-8601 string, not {name}; "
                                 "pass datetime.now(timezone.utc) or leave it out.")


def test_an_origin_part_that_would_not_parse_back_is_named():
    with pytest.raises(EventError) as caught:
        E.origin("product-consumer-customer", "a/b", "Erik")
    assert str(caught.value) == ("origin part 'a/b' must be a non-empty string without '/'; "
                                 "choose another role, id or name.")


@pytest.mark.parametrize("data,message", [
    (None, "record data must be bytes, not NoneType; pass the record's Data"),
    ("{}", "record data must be bytes, not str; pass the record's Data"),
    (b"\xff\xfe{}", "record is not UTF-8 text; producers must write UTF-8 JSON"),
    (b"not json", "record is not valid JSON; producers must write one JSON object per record"),
    (b"", "record is not valid JSON; producers must write one JSON object per record"),
    (b'{"a": 1} trailing', "record is not valid JSON; producers must write one JSON object per record"),
    (b"[" * 100_000 + b"]" * 100_000, "record is not valid JSON; producers must write one JSON object per record"),
    (b"[1, 2]", "record holds a JSON array, not an object; producers must write one JSON object per record"),
    (b'"text"', "record holds a JSON string, not an object; producers must write one JSON object per record"),
    (b"1.5", "record holds a JSON number, not an object; producers must write one JSON object per record"),
    (b"true", "record holds a JSON boolean, not an object; producers must write one JSON object per record"),
    (b"null", "record holds a JSON null, not an object; producers must write one JSON object per record"),
])
def test_a_record_that_is_not_a_json_object_is_refused_in_one_sentence(data, message):
    with pytest.raises(EventError) as caught:
        E.decode(data)
    assert str(caught.value) == message


def test_decode_reads_bytes_in_any_buffer():
    assert E.decode(bytearray(b'{"a": "\xc3\xa9"}')) == E.decode(memoryview(b'{"a": "\\u00e9"}')) == {"a": "\u00e9"}


@settings(max_examples=examples(30))
@given(json_values, st.booleans())
def test_the_compact_encoder_writes_what_json_dumps_writes(value, pure_python):
    """The reusable encoder built at import (C when CPython has it, else Python's) is json.dumps, compact."""
    with pytest.MonkeyPatch.context() as patch:
        if pure_python:
            patch.setattr(encoding, "c_make_encoder", None)
        compact = encoding._compact_encoder()
    assert compact(value) == json.dumps(value, separators=(",", ":"))
    assert compact({"b": value, "a": [value, "\u00e9"]}) == json.dumps({"b": value, "a": [value, "\u00e9"]},
                                                                        separators=(",", ":"))


@pytest.mark.parametrize("pure_python", [False, True])
@pytest.mark.parametrize("value", [{(1, 2): "a tuple key"}, {"when": datetime(2017, 1, 1)}, {"n": float("nan")}])
def test_the_compact_encoder_refuses_or_writes_what_json_dumps_does(value, pure_python, monkeypatch):
    if pure_python:
        monkeypatch.setattr(encoding, "c_make_encoder", None)
    compact = encoding._compact_encoder()
    try:
        expected = json.dumps(value, separators=(",", ":"))
    except TypeError as error:
        with pytest.raises(TypeError, match=str(error)):
            compact(value)
    else:
        assert compact(value) == expected


@pytest.mark.parametrize("key,field", [
    ("", "''"), ("k" * 64, "k" * 64), ("k" * 65, "'" + "k" * 63), ("a\nb", "'a\\nb'"),
])
def test_an_extra_field_is_named_on_one_line_and_at_most_64_characters(key, field):
    error = rejected({**BUILT["purchase"], key: 1})
    assert error.field == field
    assert str(error) == f"event does not match {E.ENVELOPE_INGRESS}: {field} is not allowed"


def test_of_several_extra_fields_the_first_in_order_is_named():
    error = rejected({**BUILT["purchase"], "zeta": 1, "beta": 2, "gamma": 3})
    assert error.field == "beta"


def test_a_data_object_without_its_schema_is_named():
    event = copy.deepcopy(BUILT["purchase"])
    del event["data"]["schema"]
    error = rejected(event)
    assert str(error) == f"event does not match {E.ENVELOPE_INGRESS}: data.schema is required"
    assert (error.schema, error.field) == (E.ENVELOPE_INGRESS, "data.schema")


def test_an_unknown_data_schema_names_where_the_known_ones_are():
    event = copy.deepcopy(BUILT["purchase"])
    event["data"]["schema"] = "com.nordstrom/product/return/1-0-0"
    error = rejected(event)
    assert str(error) == ("event has unknown data schema com.nordstrom/product/return/1-0-0; use one of the ids in "
                          "hello_winners.events.KINDS")
    assert (error.schema, error.field) == (E.ENVELOPE_INGRESS, "data.schema")


NEWER = "com.nordstrom/retail-stream-ingress/2-0-0"


@pytest.mark.parametrize("schema,named", [(NEWER, NEWER), ("s" * 65, "'" + "s" * 63), (None, "None")])
def test_an_unknown_envelope_names_the_two_known_ones(schema, named):
    error = rejected({**BUILT["purchase"], "schema": schema})
    assert str(error) == (f"event has unknown envelope schema {named}; "
                          f"expected {E.ENVELOPE_INGRESS} or {E.ENVELOPE_EGRESS}")
    assert (error.schema, error.field) == (None, "schema")


@pytest.mark.parametrize("value,name", [([], "list"), ("{}", "str"), (None, "NoneType")])
def test_an_event_that_is_not_an_object_is_named(value, name):
    error = rejected(value)
    assert str(error) == f"event must be a JSON object, not {name}"
    assert (error.schema, error.field) == (None, "event")


class Hostile(dict):
    """A mapping that fails where no JSON object can: what the safety net in validate() is for."""

    def get(self, *_args):
        raise RuntimeError("boom")


def test_whatever_breaks_inside_validation_is_one_event_error_sentence():
    error = rejected(Hostile(BUILT["purchase"]))
    assert str(error) == ("event cannot be validated (RuntimeError); "
                          "send a JSON object with schema, origin, timeOrigin and data")


def test_kind_of_an_unvalidated_event_says_to_validate_first():
    with pytest.raises(EventError) as caught:
        E.kind({"data": {"schema": "x"}})
    assert str(caught.value) == "event has no known data schema; validate it first"
    assert caught.value.field == "data.schema"
    with pytest.raises(EventError):
        E.kind(["not", "an", "event"])


def explained(schema, instance, prefix=()):
    """What validation says of ``instance`` against a schema of any rule, not only the shipped schemas' rules."""
    with pytest.raises(fastjsonschema.JsonSchemaValueException) as caught:
        fastjsonschema.compile(schema)(instance)
    return validation._explain(caught.value, prefix, instance)


@pytest.mark.parametrize("schema,instance,said", [
    ({"type": "object"}, [], ("event", "must be an object")),
    ({"type": "integer"}, "1", ("event", "must be an integer")),
    ({"type": "number"}, "1", ("event", "must be a number")),
    ({"type": "boolean"}, 1, ("event", "must be true or false")),
    ({"type": "null"}, 1, ("event", "must be null")),
    ({"type": ["string", "null"]}, 1, ("event", "must be a string or null")),
    ({"properties": {"a": {"const": "x"}}}, {"a": "y"}, ("a", "must be 'x'")),
    ({"properties": {"a": {"maxLength": 3}}}, {"a": "long"}, ("a", "must be at most 3 characters long")),
    ({"properties": {"a": {"minLength": 2}}}, {"a": "s"}, ("a", "must be at least 2 characters long")),
    ({"additionalProperties": False}, {"b": 1, "a": 2}, ("a", "is not allowed")),
    ({"items": {"required": ["id"]}}, [{"id": 1}, {}], ("1.id", "is required")),
    ({"properties": {"a": {"enum": [1, 2]}}}, {"a": 3}, ("a", "breaks the rule 'enum'")),
    ({"minProperties": 1}, {}, ("event", "breaks the rule 'minProperties'")),
])
def test_validation_speaks_one_plain_sentence_for_any_rule_a_schema_may_use(schema, instance, said):
    assert explained(schema, instance) == said
    field, problem = explained(schema, instance, prefix=("data",))
    assert (field, problem) == ("data" if said[0] == "event" else f"data.{said[0]}", said[1])


@pytest.mark.parametrize("event,key", [
    (BUILT["purchase"], "9000002"),
    (BUILT["category-view"], "Tops"),  # a category view has no product: its category keeps it in order
    ({**BUILT["purchase"], "data": {"id": "", "category": "Tops"}}, "Tops"),
    ({**BUILT["purchase"], "data": {"id": 7}}, BUILT["purchase"]["origin"]),
    ({**BUILT["purchase"], "data": "not an object"}, BUILT["purchase"]["origin"]),
    ({"origin": 42}, "42"),
    ({}, "-"),
    (["not", "an", "event"], "-"),
    ({**BUILT["purchase"], "data": {"id": "p" * 300}}, "p" * 256),
])
def test_the_partition_key_keeps_a_products_events_on_one_shard_whatever_the_event(event, key):
    """A product's events share its id as key; an event that names none still gets a key Kinesis takes."""
    assert E.partition_key(event) == key
