"""One checker per exercise: it runs the participant's function on cases and prints the verdict.

Each checker is called with the participant's function, e.g. ``checks.decode_record(decode_record)``,
and prints one of: that it passed; that it is not done yet (the body still raises NotDoneYet); or on
which case it went wrong, what it did, and a hint. It never raises. Cases include the tricky ones
(a duplicate delivery, a purchase before the photo, a bad record). Checkers that need AWS run against
moto's in-process mock, never the participant's stage: checking costs nothing on real AWS either.
"""

import binascii
import contextlib
import hashlib
import io
import json
import traceback
import zipfile

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ParamValidationError
import pandas as pd

from hello_winners import analysis, events, naming
from hello_winners.game import eventlog
from hello_winners.view import tables
from hello_winners.workshop import doubles
from hello_winners.workshop.exercises import figures
from hello_winners.deploy import bundle, models, policies, tagging
from hello_winners.errors import EventError, NotDoneYet
from hello_winners.view.delivery import kinesis_record

__all__ = ["put_event", "read_back", "build_zip", "connect_stream", "consumer_policy", "create_function", "create_role", "decode_record",
           "contributor_sales", "handle_batch", "handle_batch_once", "leaderboard_chart", "purchase_once", "race_chart",
           "record_contribution", "sales_per_category", "scores_frame", "stage_leftovers", "tally_purchase",
           "top_of_role", "validate_event"]

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's account
SHARD = "shardId-000000000000"
_TIME = "2017-06-13T16:00:00.000Z"


class _Wrong(Exception):
    """A case the participant's function got wrong: what happened, and a hint."""

    def __init__(self, what, hint):
        super().__init__(what)
        self.what, self.hint = what, hint


class _Checker:
    """Runs cases; remembers which one is running, so a crash can be reported on it."""

    def __init__(self):
        self.case = "the first case"
        self.passed = 0

    @contextlib.contextmanager
    def on(self, case, crash_hint=None):
        self.case = case
        try:
            yield
        except (_Wrong, NotDoneYet):
            raise
        except Exception as error:  # noqa: BLE001 - the participant's code may raise anything
            raise _Wrong(f"it raised {type(error).__name__}: {_short(error)}",
                         crash_hint or "read the error, fix the line it points at, then run the check again") from None
        self.passed += 1

    def expect(self, ok, what, hint):
        if not ok:
            raise _Wrong(what, hint)


def _short(error):
    """The error's first line; a boto3 parameter error whole, since its first line only says that one failed."""
    text = str(error).strip().splitlines()
    if isinstance(error, ParamValidationError):
        return " ".join(line.strip() for line in text)
    return text[0][:200] if text else repr(error)


def _check(name, body, *args):
    """Print the verdict of ``body(checker, *args)``; never raise."""
    checker = _Checker()
    try:
        summary = body(checker, *args)
    except NotDoneYet as error:
        print(f"{name}: not done yet ({error})")
    except _Wrong as wrong:
        print(f"{name}: not right yet, on {checker.case}: {wrong.what}\n  hint: {wrong.hint}")
    except Exception:  # noqa: BLE001 - a checker must never raise at the participant
        print(f"{name}: the checker itself failed, please tell the instructor:\n{traceback.format_exc(limit=3)}")
    else:
        cases = f"{checker.passed} case" + ("s" if checker.passed != 1 else "")
        print(f"{name}: passed ({cases}{', ' + summary if summary else ''})")


# --- sample events and records ---------------------------------------------------------------------

def _create(user, name, product, category="Shoes"):
    return events.product_create(user, name, product, brand="Northwind", name=f"Boot {product}",
                                 description="A boot.", category=category, time=_TIME)


def _image(user, name, product):
    return events.product_image(user, name, product, f"https://example.com/{product}.jpg", time=_TIME)


def _purchase(product, customer="c1"):
    return events.product_purchase(customer, "Cy", product, time=_TIME)


def _record(event_or_bytes, seq, shard=SHARD):
    data = event_or_bytes if isinstance(event_or_bytes, bytes) else events.encode(event_or_bytes)
    return kinesis_record(shard, seq, data)


def _raw_record(data_text, seq):
    record = kinesis_record(SHARD, seq, b"")
    record["kinesis"]["data"] = data_text
    return record


# --- moto sandboxes --------------------------------------------------------------------------------

def _role_not_ready_once(lam, operation):
    """The first ``operation`` call fails as Lambda fails while a new role propagates (moto never makes you wait)."""
    pending = [True]

    def not_ready(**_):
        if pending:
            pending.clear()
            message = "The role defined for the function cannot be assumed by Lambda."
            return AWSResponse(lam.meta.endpoint_url, 400, {}, None), {
                "Error": {"Code": "InvalidParameterValueException", "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": 400}}
        return None

    lam.meta.events.register(f"before-call.lambda.{operation}", not_ready)


@contextlib.contextmanager
def _mocked():
    """moto's in-process AWS: the checks never touch the participant's stage."""
    from moto import mock_aws

    with mock_aws():
        yield boto3.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")


@contextlib.contextmanager
def _tables():
    with _mocked() as session:
        dynamodb = session.client("dynamodb")
        yield dynamodb, tables.create(dynamodb, "check-")


def _product(dynamodb, table_names, product):
    item = dynamodb.get_item(TableName=table_names[tables.CONTRIBUTIONS], Key={"productId": {"S": product}},
                             ConsistentRead=True).get("Item", {})
    return {k: (v.get("S") if "S" in v else int(v["N"])) for k, v in item.items() if "S" in v or "N" in v}


def _scores(dynamodb, table_names):
    """{(userId, role): score} of every Scores item."""
    items = dynamodb.scan(TableName=table_names[tables.SCORES], ConsistentRead=True)["Items"]
    return {(i["userId"]["S"], i["role"]["S"]): int(i["score"]["N"]) for i in items}


def _put_product(dynamodb, table_names, product, purchases=0, merchant=None, photographer=None):
    item = {"productId": {"S": product}}
    if purchases:
        item["purchases"] = {"N": str(purchases)}
    for role, who in (("merchant", merchant), ("photographer", photographer)):
        if who:
            item[role], item[role + "Name"] = {"S": who[0]}, {"S": who[1]}
    dynamodb.put_item(TableName=table_names[tables.CONTRIBUTIONS], Item=item)


# --- lesson 1 --------------------------------------------------------------------------------------

_STREAM = "check-stream"


@contextlib.contextmanager
def _stream():
    """A fresh two-shard stream in moto, as lesson 1 creates it."""
    with _mocked() as session:
        kinesis = session.client("kinesis")
        kinesis.create_stream(StreamName=_STREAM, ShardCount=2)
        yield kinesis


def _on_stream(kinesis):
    """Every record of the stream: (shard id, sequence number, partition key, data bytes), shard by shard."""
    found = []
    for shard in kinesis.list_shards(StreamName=_STREAM)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=_STREAM, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        found += [(shard["ShardId"], r["SequenceNumber"], r["PartitionKey"], r["Data"])
                  for r in kinesis.get_records(ShardIterator=iterator)["Records"]]
    return found


def _shard_of(kinesis, key):
    """The shard whose hash key range holds ``key``'s MD5, as Kinesis routes a record."""
    point = int(hashlib.md5(key.encode("utf-8")).hexdigest(), 16)
    return next(s["ShardId"] for s in kinesis.list_shards(StreamName=_STREAM)["Shards"]
                if int(s["HashKeyRange"]["StartingHashKey"]) <= point <= int(s["HashKeyRange"]["EndingHashKey"]))


def put_event(function):
    """Check put_event(kinesis, stream_name, event) -> (shard id, sequence number), reading the stream back."""
    _check("put_event", _put_event, function)


def _put_event(c, function):
    key_hint = "PartitionKey=events.partition_key(event): the product id, so all events of a product share a shard"
    with _stream() as kinesis:
        cases = [("a merchant's product/create of p1", _create("m1", "Mia", "p1")),
                 ("a photographer's product/image of p1", _image("f1", "Finn", "p1")),
                 ("a customer's product/purchase of p1", _purchase("p1")),
                 ("a purchase of another product, p4", _purchase("p4", customer="c2"))]
        before = []
        for case, event in cases:
            with c.on(case, "kinesis.put_record(StreamName=stream_name, Data=events.encode(event), PartitionKey=...)"):
                got = function(kinesis, _STREAM, event)
                records = _on_stream(kinesis)
                new = [record for record in records if record not in before]
                c.expect(len(new) == 1, f"it put {len(new)} records for one event",
                         "put exactly one record per event: one put_record call")
                (shard, sequence, key, data), before = new[0], records
                product = event["data"]["id"]
                c.expect(key == product, f"its partition key is {key!r:.80}, expected the product id {product!r}", key_hint)
                c.expect(shard == _shard_of(kinesis, product), f"it landed in {shard}, but key {product!r} belongs to "
                         f"{_shard_of(kinesis, product)}", "do not pass ExplicitHashKey: let the key choose the shard")
                c.expect(_decoded_or_none(data) == event, f"its data is {bytes(data)!r:.80}, not the event's JSON",
                         "Data=events.encode(event): the event as compact JSON bytes")
                c.expect(got == (shard, sequence), f"it returned {got!r:.120}, expected ({shard!r}, {sequence!r})",
                         "return (response['ShardId'], response['SequenceNumber']) of put_record's response")
        shards = {record[0] for record in before}
        invalid = _purchase("p5")
        invalid["data"]["coupon"] = "FREE"
        with c.on("a purchase with a property its schema does not allow"):
            try:
                function(kinesis, _STREAM, invalid)
            except EventError:
                pass
            else:
                raise _Wrong("it returned without raising EventError",
                             "check the event with events.validate(event) before putting it: it raises EventError")
            c.expect(len(_on_stream(kinesis)) == len(cases), "the invalid event is on the stream now",
                     "validate first, then put: once on the stream, every consumer has to cope with it forever")
    return f"one shard per product ({len(shards)} shards used), invalid events refused"


def _decoded_or_none(data):
    try:
        return events.decode(data)
    except EventError:
        return None


def read_back(function):
    """Check read_back(kinesis, stream_name, shard_id, sequence_number) -> the event of that record."""
    _check("read_back", _read_back, function)


def _read_back(c, function):
    with _stream() as kinesis:
        put = [_create("m1", "Mia", "p1"), _image("f1", "Finn", "p1"), _purchase("p1"), _purchase("p4", customer="c2")]
        where = [kinesis.put_record(StreamName=_STREAM, Data=events.encode(e), PartitionKey=e["data"]["id"]) for e in put]
        iterator_hint = ("kinesis.get_shard_iterator(StreamName=..., ShardId=shard_id, ShardIteratorType="
                         "'AT_SEQUENCE_NUMBER', StartingSequenceNumber=sequence_number), then get_records(..., Limit=1)")
        for number in (1, 0, 3):
            event, placed = put[number], where[number]
            with c.on(f"record {placed['SequenceNumber'][-6:]} of {placed['ShardId']} (the {events.kind(event)} of "
                      f"{event['data']['id']})", iterator_hint):
                got = function(kinesis, _STREAM, placed["ShardId"], placed["SequenceNumber"])
                c.expect(isinstance(got, dict), f"it returned a {type(got).__name__}, not the event dict",
                         "events.decode(record['Data']) turns the record's bytes into the event")
                c.expect(got == event, f"it returned the {_kind_or(got)} of {got.get('data', {}).get('id')}, expected "
                         f"the {events.kind(event)}", "start the iterator AT_SEQUENCE_NUMBER (not TRIM_HORIZON, which is "
                         "the shard's oldest record, nor AFTER_SEQUENCE_NUMBER, the one after it)")
    return "each record found by its shard and sequence number"


def _kind_or(event):
    try:
        return events.kind(event)
    except EventError:
        return "event"


# --- lesson 2 --------------------------------------------------------------------------------------

_B64_HINT = ("record['kinesis']['data'] is base64 text: base64.b64decode it, then turn the bytes into a dict "
             "with events.decode")


def decode_record(function):
    """Check decode_record(record) -> the event dict, EventError for a bad record."""
    _check("decode_record", _decode_record, function)


def _decode_record(c, function):
    event = _create("m1", "Zoë", "p1")
    with c.on("a good record", _B64_HINT):
        got = function(_record(event, 1))
        c.expect(not isinstance(got, (bytes, str)), f"it returned {type(got).__name__}, not the event dict",
                 "events.decode turns the JSON bytes into a dict")
        c.expect(got == event, f"it returned {got!r:.120}, not the event", _B64_HINT)
    for case, record in (("a record whose data is not base64", _raw_record("%%% not base64 %%%", 2)),
                         ("a record that is not JSON", _record(b"hello, retail", 3)),
                         ("a record holding a JSON list, not an object", _record(b"[1, 2, 3]", 4))):
        with c.on(case):
            try:
                got = function(record)
            except EventError:
                continue
            except Exception as error:  # noqa: BLE001
                raise _Wrong(f"it raised {_qualified(error)}, not EventError", _decode_hint(error)) from None
            raise _Wrong(f"it returned {got!r:.80} instead of raising EventError",
                         "decode with base64.b64decode(..., validate=True) and events.decode: both refuse bad input")
    return "including records that are not base64 or not JSON"


def _qualified(error):
    kind = type(error)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"


def _decode_hint(error):
    if isinstance(error, binascii.Error):
        return "catch binascii.Error and raise EventError instead, so the consumer can skip the record"
    if isinstance(error, ValueError):
        return "decode the bytes with events.decode: it raises EventError for anything that is not a JSON object"
    return "raise the kit's EventError for any bad record, so the consumer can skip it"


def validate_event(function):
    """Check validate_event(event) -> kind, or None for an invalid event."""
    _check("validate_event", _validate_event, function)


def _validate_event(c, function):
    good = [("a product/create", _create("m1", "Mia", "p1"), "create"),
            ("a product/purchase", _purchase("p1"), "purchase"),
            ("a product/view", events.product_view("c1", "Cy", "p1", time=_TIME), "product-view")]
    for case, event, kind in good:
        with c.on(case, "validate with events.validate, then return events.kind(event)"):
            got = function(event)
            c.expect(not isinstance(got, dict), "it returned the event, not its kind",
                     "return the short kind: events.kind(event)")
            c.expect(got == kind, f"it returned {got!r}, expected {kind!r}",
                     "return events.kind(event): the short kind, not the schema id")
    missing = _purchase("p1")
    del missing["data"]["id"]
    extra = _purchase("p1")
    extra["data"]["coupon"] = "FREE"
    unknown = _purchase("p1")
    unknown["data"]["schema"] = "com.nordstrom/product/refund/1-0-0"
    bad = [("a purchase without its product id", missing), ("a purchase with a property its schema does not allow", extra),
           ("an event with an unknown data schema", unknown), ("a JSON list instead of an event", [1, 2])]
    for case, event in bad:
        with c.on(case):
            try:
                got = function(event)
            except EventError:
                raise _Wrong("it raised EventError instead of returning None",
                             "catch EventError and return None: the consumer skips a bad event, it must not crash") from None
            c.expect(got is None, f"it returned {got!r} for an invalid event",
                     "check the event with events.validate first: it raises EventError for anything off-schema")
    return "including events that break their schema"


_SCORES_HINT = "give points with add_to_score(dynamodb, table_names, user_id, role, name, amount)"


def record_contribution(function):
    """Check record_contribution(dynamodb, table_names, event) against mock tables."""
    _check("record_contribution", _record_contribution, function)


def _record_contribution(c, function):
    with _tables() as (db, names):
        with c.on("the create of a new product", "SET merchant and merchantName with update_item on Contributions"):
            got = function(db, names, _create("m1", "Mia", "p1"))
            item = _product(db, names, "p1")
            c.expect(item.get("merchant") == "m1" and item.get("merchantName") == "Mia",
                     f"the product's item is {item}, expected merchant 'm1' and merchantName 'Mia'",
                     "the merchant is the unique id of the origin, its name the display name (events.parse_origin)")
            c.expect(got is True, f"it returned {got!r}, expected True", "return True when the contributor is recorded")
            c.expect(not _scores(db, names), f"the Scores table holds {_scores(db, names)} for a product nobody bought",
                     "only contributors with sales have a score: add the product's purchases, which are 0 here")
        with c.on("the photo of the same product", "SET photographer and photographerName on the same item"):
            function(db, names, _image("f1", "Finn", "p1"))
            item = _product(db, names, "p1")
            c.expect(item.get("photographer") == "f1" and item.get("merchant") == "m1",
                     f"the product's item is {item}, expected merchant m1 and photographer f1",
                     "update only the attributes of the event's role; keep the others")
        with c.on("a second create of the same product by someone else (a conflict)",
                  "catch dynamodb.exceptions.ConditionalCheckFailedException and return False"):
            got = function(db, names, _create("m2", "Max", "p1"))
            item = _product(db, names, "p1")
            c.expect(item.get("merchant") == "m1", f"the merchant became {item.get('merchant')!r}",
                     "the first create wins: add ConditionExpression='attribute_not_exists(merchant)'")
            c.expect(got is False, f"it returned {got!r}, expected False", "return False when the product already has one")
        _put_product(db, names, "p2", purchases=2, merchant=("m1", "Mia"))
        with c.on("a photo of a product bought twice before it was photographed"):
            function(db, names, _image("f2", "Fay", "p2"))
            got = _scores(db, names).get(("f2", "photographer"))
            c.expect(got == 2, f"the photographer's score is {got}, expected 2",
                     "purchases made before the photo count too: ask update_item for ReturnValues='ALL_NEW' "
                     "and add the item's purchases to the score; " + _SCORES_HINT)
        with c.on("a create whose origin names nobody"):
            event = _create("m3", "Mo", "p3")
            event["origin"] = "nobody"
            got = function(db, names, event)
            c.expect(got is False and "merchant" not in _product(db, names, "p3"),
                     "it recorded a merchant for an origin that names nobody",
                     "events.parse_origin returns None then: return False and change nothing")
    return "including a conflict and a purchase before the photo"


def tally_purchase(function):
    """Check tally_purchase(dynamodb, table_names, event) against mock tables."""
    _check("tally_purchase", _tally_purchase, function)


def _tally_purchase(c, function):
    with _tables() as (db, names):
        _put_product(db, names, "p1", merchant=("m1", "Mia"), photographer=("f1", "Finn"))
        _put_product(db, names, "p2", merchant=("m1", "Mia"))
        with c.on("a purchase of a product with both contributors",
                  "ADD purchases :one on the product with ReturnValues='ALL_NEW', then score its contributors"):
            function(db, names, _purchase("p1"))
            c.expect(_product(db, names, "p1").get("purchases") == 1,
                     f"the product's purchases are {_product(db, names, 'p1').get('purchases')}, expected 1",
                     "ADD purchases :one on the product's Contributions item")
            scores = _scores(db, names)
            buyer = sorted(key for key in scores if key[0] == "c1")
            c.expect(not buyer, f"it credited the buyer, customer c1 ({buyer[0][1] if buyer else ''}): a purchase earns "
                     "points for the product's merchant and photographer, not for who bought it",
                     "take the contributors from the product's item (update_item with ReturnValues='ALL_NEW'), "
                     "not from the purchase's origin")
            c.expect(scores == {("m1", "merchant"): 1, ("f1", "photographer"): 1},
                     f"the scores are {scores}, expected m1 and f1 with 1 each", _SCORES_HINT)
        with c.on("a purchase of a product nobody has added or photographed yet (a purchase before the photo)",
                  "the item may have no merchant or photographer yet: score only the roles it has"):
            function(db, names, _purchase("p9"))
            c.expect(_product(db, names, "p9").get("purchases") == 1,
                     "the purchase was not counted on the product",
                     "count it on the product anyway: record_contribution credits it when the contributor arrives")
            c.expect(len(_scores(db, names)) == 2, f"scores changed: {_scores(db, names)}",
                     "nobody is known for this product yet: give no points")
        with c.on("a purchase of a product with a merchant and no photographer yet",
                  "the item may have no photographer yet: score only the roles it has"):
            function(db, names, _purchase("p2"))
            scores = _scores(db, names)
            c.expect(scores.get(("m1", "merchant")) == 2 and ("f1", "photographer") in scores and len(scores) == 2,
                     f"the scores are {scores}, expected m1 at 2 and f1 still at 1", _SCORES_HINT)
    return "including purchases before the contributors are known"


def _day_batch():
    """A small Lambda batch with the tricky parts: a purchase before its photo, bad records, a view."""
    sequence = [
        _create("m1", "Mia", "p1"), _image("f1", "Finn", "p1"), _purchase("p1"),
        _purchase("p2"), _create("m2", "Max", "p2"),
        b"%%% not json", "not base64 !!!", {"schema": events.ENVELOPE_INGRESS, "origin": "x"},
        events.product_view("c1", "Cy", "p1", time=_TIME), _image("f2", "Fay", "p2"), _purchase("p1", "c2"),
        _create("m2", "Max", "p1"),
    ]
    records = [_raw_record(e, n) if isinstance(e, str) else _record(e, n) for n, e in enumerate(sequence, 1)]
    expected = {("m1", "merchant"): 2, ("f1", "photographer"): 2, ("m2", "merchant"): 1, ("f2", "photographer"): 1}
    return {"Records": records}, expected


def handle_batch(function):
    """Check handle_batch(event, dynamodb, table_names) on a small batch against mock tables."""
    _check("handle_batch", _handle_batch, function)


def _handle_batch(c, function):
    batch, expected = _day_batch()
    with _tables() as (db, names), c.on("a batch with a purchase before its photo and three bad records",
              "skip a record decode_record rejects (catch EventError) and an event validate_event "
              "returns None for; dispatch purchases to tally_purchase and creates/images to record_contribution"):
        got = function(batch, db, names)
        c.expect(got == {"batchItemFailures": []}, f"it returned {got!r}",
                 "return {'batchItemFailures': []}: Lambda reads it as 'every record is done'")
        scores = _scores(db, names)
        c.expect(scores == expected, f"the scores are {scores}, expected {expected}",
                 "apply every record in order: creates and images with record_contribution, purchases "
                 "with tally_purchase; views change nothing")
    return "bad records skipped, scores exact"


# --- lesson 3 --------------------------------------------------------------------------------------

def _names(prefix="hw-check-"):
    return models.Names(prefix, REGION, ACCOUNT)


def build_zip(function):
    """Check build_zip() -> the zip's bytes, complete and reproducible."""
    _check("build_zip", _build_zip, function)


def _build_zip(c, function):
    with c.on("building the zip", "return bundle.build()"):
        code = function()
        c.expect(isinstance(code, bytes), f"it returned {type(code).__name__}, not the zip's bytes",
                 "return the bytes: create_function sends them as Code={'ZipFile': code}")
        try:
            files = set(zipfile.ZipFile(io.BytesIO(code)).namelist())
        except zipfile.BadZipFile:
            raise _Wrong("the bytes are not a zip", "deploy.bundle.build() returns the zip's bytes") from None
    with c.on("what the zip holds"):
        for needed, why in (("hello_winners/view/consumer.py", "the handler module"),
                            ("hello_winners/events/schemas/product-purchase-1-0-0.json", "the event schemas events reads"),
                            ("fastjsonschema/__init__.py", "fastjsonschema, which the Lambda runtime does not have")):
            c.expect(needed in files, f"it lacks {needed} ({why})",
                     "let deploy.bundle.build() find what the handler needs: modules, data files and pure-Python packages")
    with c.on("building it twice"):
        c.expect(function() == code, "two builds gave different bytes",
                 "a reproducible zip (deploy.bundle.build) lets a redeploy see that nothing changed")
    return "complete and reproducible"


def _grants(document):
    """{(action, resource)} a policy document allows; raises _Wrong for what the checker cannot accept."""
    pairs = set()
    for statement in document.get("Statement", []) if isinstance(document, dict) else []:
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement or "NotResource" in statement:
            raise _Wrong("a statement uses NotAction or NotResource",
                         "name the actions and resources it allows instead: that is what least privilege reads like")
        actions, resources = statement.get("Action", []), statement.get("Resource", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        pairs.update((a, r) for a in actions for r in resources)
    return pairs


def consumer_policy(function):
    """Check consumer_policy(names) -> the least-privilege policy document of the consumer."""
    _check("consumer_policy", _consumer_policy, function)


def _consumer_policy(c, function):
    for prefix in ("hw-check-", "hw-other-"):
        names = _names(prefix)
        with c.on(f"the stage with prefix {prefix}", "return a dict: {'Version': '2012-10-17', 'Statement': [...]}"):
            document = function(names)
            c.expect(isinstance(document, dict) and document.get("Version") == "2012-10-17",
                     "it is not a policy document with Version 2012-10-17",
                     "return {'Version': '2012-10-17', 'Statement': [...]} (a dict, not JSON text)")
            granted, needed = _grants(document), _grants(policies.consumer(names))
            accepted = {(action.lower(), form) for action, resource in needed for form in _same_effect(action, resource)}
            wild = sorted({a for a, r in granted if "*" in a} | {r for a, r in granted if r == "*" or r.endswith(":*:*")})
            c.expect(not wild, f"it grants wildcards: {', '.join(wild)}",
                     "name each action and the exact ARN (names.stream_arn, names.table_arn(tables.SCORES), ...)")
            allowed = {(action.lower(), resource) for action, resource in granted}
            for action, resource in sorted(needed):
                if not allowed & {(action.lower(), form) for form in _same_effect(action, resource)}:
                    raise _Wrong(f"the consumer could not {action} on {resource}", _why_needed(action))
            for action, resource in sorted(p for p in granted if (p[0].lower(), p[1]) not in accepted)[:1]:
                raise _Wrong(f"it also grants {action} on {resource}, which the consumer never uses",
                             "grant only what the consumer calls: read the stream, BatchGetItem/GetItem/UpdateItem "
                             "on Contributions and Scores, BatchWriteItem on Rejects, and its own logs")
    return "exact ARNs, no wildcards, nothing missing or extra"


def _same_effect(action, resource):
    """The ARN forms that grant the same call: AWS writes a log group's ARN both bare and with ":*"."""
    if action.startswith("logs:") and not resource.endswith(":*"):
        return (resource, f"{resource}:*")
    return (resource,)


def _why_needed(action):
    service = action.split(":")[0]
    return {"kinesis": "Lambda's event source mapping reads the stream with the function's role: it needs "
                       "DescribeStream, DescribeStreamSummary, GetRecords, GetShardIterator and ListShards on names.stream_arn",
            "dynamodb": "the consumer reads products with BatchGetItem/GetItem and writes with UpdateItem "
                        "(Contributions, Scores), and writes rejects with BatchWriteItem (Rejects): "
                        "names.table_arn(tables.CONTRIBUTIONS) and so on",
            "logs": "Lambda writes the function's log with logs:CreateLogGroup on names.log_group_arn('consumer') "
                    "(or that ARN + ':*', AWS's other spelling of it) and CreateLogStream/PutLogEvents on that ARN + ':*'"}.get(service, "the consumer needs it")


def create_role(function):
    """Check create_role(iam, names, policy, tags) -> role ARN, against moto's IAM."""
    _check("create_role", _create_role, function)


def _create_role(c, function):
    names, tags = _names(), naming.tags("check")
    policy = policies.consumer(names)
    with _mocked() as session:
        iam = session.client("iam")
        with c.on("creating the role", "iam.create_role(RoleName=names.role('consumer'), "
                  "AssumeRolePolicyDocument=json.dumps(models.LAMBDA_TRUST), Tags=[...])"):
            arn = function(iam, names, policy, tags)
            role = iam.get_role(RoleName=names.role("consumer"))["Role"]
            c.expect(arn == role["Arn"], f"it returned {arn!r}, not the role's ARN", "return iam.create_role(...)['Role']['Arn']")
            trust = role["AssumeRolePolicyDocument"]
            trust = json.loads(trust) if isinstance(trust, str) else trust
            c.expect("lambda.amazonaws.com" in json.dumps(trust), "Lambda may not assume the role",
                     "use models.LAMBDA_TRUST as the AssumeRolePolicyDocument (json.dumps it)")
            found = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=names.role("consumer"))["Tags"]}
            c.expect(tags.items() <= found.items(), f"the role's tags are {found}",
                     "pass Tags=[{'Key': k, 'Value': v} for k, v in tags.items()]: teardown finds the kit's roles by them")
            inline = iam.list_role_policies(RoleName=names.role("consumer"))["PolicyNames"]
            c.expect(inline == ["consumer-access"], f"its inline policies are {inline}",
                     "put the policy with iam.put_role_policy(..., PolicyName='consumer-access', PolicyDocument=json.dumps(policy))")
        with c.on("running it again with a changed policy",
                  "catch iam.exceptions.EntityAlreadyExistsException and reuse the role"):
            changed = {**policy, "Statement": policy["Statement"][:-1]}
            again = function(iam, names, changed, tags)
            c.expect(again == arn, f"the second run returned {again!r}", "return the existing role's ARN (iam.get_role)")
            stored = iam.get_role_policy(RoleName=names.role("consumer"), PolicyName="consumer-access")["PolicyDocument"]
            stored = json.loads(stored) if isinstance(stored, str) else stored
            c.expect(stored == changed, "the policy was not updated", "call put_role_policy also when the role exists")
    return "trusted by Lambda, tagged, policy attached, safe to run again"


def create_function(function):
    """Check create_function(lam, names, role_arn, code, tags) -> function ARN, against moto's Lambda."""
    _check("create_function", _create_function, function)


def _tiny_zip(text):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello_winners/consumer.py", text)
    return buffer.getvalue()


def _create_function(c, function):
    names, tags = _names(), naming.tags("check")
    with _mocked() as session:
        iam, lam = session.client("iam"), session.client("lambda")
        role_arn = iam.create_role(RoleName=names.role("consumer"),
                                   AssumeRolePolicyDocument=json.dumps(models.LAMBDA_TRUST))["Role"]["Arn"]
        code = _tiny_zip("# first")
        _role_not_ready_once(lam, "CreateFunction")
        with c.on("creating the function with a role Lambda cannot use yet (as right after creating it)",
                  "lam.create_function(FunctionName=names.function('consumer'), ...) inside "
                  "deploy.until_role_ready(lambda: ...): it retries while the new role propagates"):
            arn = function(lam, names, role_arn, code, tags)
            config = lam.get_function_configuration(FunctionName=names.function("consumer"))
            c.expect(arn == config["FunctionArn"], f"it returned {arn!r}, not the function's ARN",
                     "return lam.get_function_configuration(FunctionName=...)['FunctionArn']")
            defaults = models.Options()
            wanted = {"Runtime": models.RUNTIME, "Handler": models.CONSUMER_HANDLER, "Role": role_arn,
                      "MemorySize": defaults.consumer_memory_mb, "Timeout": defaults.consumer_timeout_s}
            for key, value in wanted.items():
                c.expect(config.get(key) == value, f"its {key} is {config.get(key)!r}, expected {value!r}",
                         f"set Runtime={models.RUNTIME!r}, Handler={models.CONSUMER_HANDLER!r}, Role=role_arn, "
                         f"MemorySize={defaults.consumer_memory_mb}, Timeout={defaults.consumer_timeout_s} "
                         "(what deploy() would set, so it has nothing to change)")
            variables = config.get("Environment", {}).get("Variables", {})
            c.expect(variables == names.tables, f"its environment is {variables}",
                     "Environment={'Variables': names.tables}: the consumer finds its tables there")
            found = lam.list_tags(Resource=arn)["Tags"]
            c.expect(tags.items() <= found.items(), f"its tags are {found}", "pass Tags=tags: teardown finds it by them")
        with c.on("running it again with new code",
                  "catch lam.exceptions.ResourceConflictException and call lam.update_function_code"):
            new = _tiny_zip("# second")
            function(lam, names, role_arn, new, tags)
            sha = lam.get_function_configuration(FunctionName=names.function("consumer"))["CodeSha256"]
            c.expect(sha == bundle.code_sha256(new), "the function still runs the old code",
                     "when it exists, update its code: lam.update_function_code(FunctionName=..., ZipFile=code)")
    return "configured as deploy() would, safe to run again"


def connect_stream(function):
    """Check connect_stream(lam, names) -> mapping UUID, against moto's Lambda and Kinesis."""
    _check("connect_stream", _connect_stream, function)


def _connect_stream(c, function):
    names = _names()
    with _mocked() as session:
        iam, lam, kinesis = session.client("iam"), session.client("lambda"), session.client("kinesis")
        kinesis.create_stream(StreamName=names.stream, ShardCount=1)
        role_arn = iam.create_role(RoleName=names.role("consumer"),
                                   AssumeRolePolicyDocument=json.dumps(models.LAMBDA_TRUST))["Role"]["Arn"]
        lam.create_function(FunctionName=names.function("consumer"), Runtime=models.RUNTIME, Role=role_arn,
                            Handler=models.CONSUMER_HANDLER, Code={"ZipFile": _tiny_zip("#")})
        _role_not_ready_once(lam, "CreateEventSourceMapping")
        with c.on("connecting the stream while the new role is not usable yet",
                  "lam.create_event_source_mapping(FunctionName=names.function('consumer'), "
                  "EventSourceArn=names.stream_arn, StartingPosition='TRIM_HORIZON', ...) inside "
                  "deploy.until_role_ready(lambda: ...): Lambda reads the stream with the new role"):
            uuid = function(lam, names)
            mappings = lam.list_event_source_mappings(FunctionName=names.function("consumer"))["EventSourceMappings"]
            c.expect(len(mappings) == 1 and mappings[0]["UUID"] == uuid, f"it returned {uuid!r}; mappings: {len(mappings)}",
                     "return the mapping's UUID")
            mapping = mappings[0]
            c.expect(mapping.get("EventSourceArn") == names.stream_arn, "it maps another stream", "EventSourceArn=names.stream_arn")
            c.expect(mapping.get("StartingPosition") == "TRIM_HORIZON",
                     f"it starts at {mapping.get('StartingPosition')}",
                     "StartingPosition='TRIM_HORIZON': from LATEST the consumer would miss the day already on the stream")
            c.expect("ReportBatchItemFailures" in mapping.get("FunctionResponseTypes", []),
                     "the consumer's partial-failure reports would be ignored",
                     "FunctionResponseTypes=['ReportBatchItemFailures']: a failed record is retried, not the whole batch")
            c.expect(mapping.get("BisectBatchOnFunctionError") is True and 0 <= mapping.get("MaximumRetryAttempts", -1) <= 10000,
                     "a failing batch would be retried whole, forever",
                     "BisectBatchOnFunctionError=True, MaximumRetryAttempts=10")
            defaults = models.Options()
            c.expect(mapping.get("BatchSize") == defaults.batch_size
                     and mapping.get("MaximumBatchingWindowInSeconds") == defaults.batching_window_s,
                     f"BatchSize {mapping.get('BatchSize')}, window {mapping.get('MaximumBatchingWindowInSeconds')} s",
                     f"BatchSize={defaults.batch_size}, MaximumBatchingWindowInSeconds={defaults.batching_window_s} "
                     "(what deploy() would set)")
        with c.on("running it again", "look for it first: lam.list_event_source_mappings(FunctionName=..., EventSourceArn=...)"):
            again = function(lam, names)
            count = len(lam.list_event_source_mappings(FunctionName=names.function("consumer"))["EventSourceMappings"])
            c.expect(count == 1, f"there are now {count} mappings: every record would be processed {count} times",
                     "reuse the mapping that exists (list_event_source_mappings) instead of creating another")
            c.expect(again == uuid, f"the second run returned {again!r}", "return the existing mapping's UUID")
    return "from TRIM_HORIZON, partial failures reported, safe to run again"


# --- lesson 4 --------------------------------------------------------------------------------------

_BOARD = [("m1", "merchant", "Mia", 12), ("m2", "merchant", "Max", 9), ("m3", "merchant", "Mo", 9),
          ("m4", "merchant", "Meg", 9), ("m5", "merchant", "Mae", 2), ("f1", "photographer", "Finn", 30)]


def _score_item(user, role, name, score):
    return {"userId": {"S": user}, "role": {"S": role}, "name": {"S": name}, "score": {"N": str(score)}}


@contextlib.contextmanager
def _calls(client):
    """The operations a client makes, with their parameters, for as long as the block runs."""
    made = []

    def remember(params, model, **_):
        made.append((model.name, dict(params)))

    client.meta.events.register("provide-client-params.dynamodb", remember)
    try:
        yield made
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb", remember)


def top_of_role(function):
    """Check top_of_role(dynamodb, scores_table, role, limit, start_key=None) -> (rows, next_key)."""
    _check("top_of_role", _top_of_role, function)


def _top_of_role(c, function):
    query_hint = ("dynamodb.query(TableName=scores_table, IndexName='ScoresByRole', KeyConditionExpression='#role = "
                  ":role', ...): the index keeps each role's scores in order, so the top is the first items it reads")
    with _tables() as (db, names):
        table = names[tables.SCORES]
        for row in _BOARD:
            db.put_item(TableName=table, Item=_score_item(*row))
        with c.on("the first page of the merchants, limit 2", query_hint):
            with _calls(db) as made:
                rows, next_key = function(db, table, "merchant", 2)
            operations = [name for name, _ in made]
            c.expect(operations == ["Query"], f"it called {', '.join(operations) or 'nothing'}, expected one Query",
                     "one Query, never a Scan: a Scan reads every item of the table, whatever the role; " + query_hint)
            params = made[0][1]
            c.expect(params.get("IndexName") == tables.SCORES_INDEX, f"it queried {params.get('IndexName') or 'the table'}",
                     "IndexName='ScoresByRole': the table's own key is userId, the index's is role and score")
            c.expect(params.get("Limit") == 2, f"its Limit is {params.get('Limit')}, expected 2",
                     "Limit=limit: DynamoDB then reads (and bills) only that many items")
            c.expect(isinstance(rows, list) and all(isinstance(r, dict) for r in rows),
                     f"it returned {rows!r:.100} as the rows", "return (rows, next_key) with rows a list of dicts")
            scores = [r.get("score") for r in rows]
            c.expect(scores == [12, 9], f"the scores are {scores}, expected [12, 9]",
                     "ScanIndexForward=False reads the index highest score first; score is int(item['score']['N'])")
            c.expect(rows[0].get("userId") == "m1" and rows[0].get("name") == "Mia",
                     f"the first row is {rows[0]}", "each row is {'userId': ..., 'name': ..., 'score': ...}")
            c.expect(next_key is not None, "it returned no next_key though more merchants follow",
                     "return response.get('LastEvaluatedKey'): DynamoDB stopped at the Limit and says where")
        with c.on("reading the rest page by page (three merchants tie at 9)",
                  "pass ExclusiveStartKey=start_key to the query when it is given"):
            seen, pages = [r["userId"] for r in rows], 1
            while next_key is not None and pages < 10:
                rows, next_key = function(db, table, "merchant", 2, next_key)
                seen += [r["userId"] for r in rows]
                pages += 1
            c.expect(sorted(seen) == ["m1", "m2", "m3", "m4", "m5"] and len(seen) == 5,
                     f"the pages gave {seen}, expected each of the 5 merchants once",
                     "pass ExclusiveStartKey=start_key when given, and return LastEvaluatedKey as next_key: "
                     "the next page starts right after the last item read, even inside a tie")
        with c.on("a role with no scores yet"):
            got = function(db, table, "customer", 5)
            c.expect(list(got[0]) == [] and got[1] is None, f"it returned {got!r}", "return ([], None)")
    return "one Query a page, highest first, ties paged through"


def scores_frame(function):
    """Check scores_frame(items) -> DataFrame of userId, role, name, score with the right dtypes."""
    _check("scores_frame", _scores_frame, function)


_SCORE_DTYPES = {"userId": "string", "role": "string", "name": "string", "score": "int64"}


def _scores_frame(c, function):
    items = [_score_item(*row) for row in reversed(_BOARD)]
    for case, given in (("the items of a Scan", items), ("no items at all (nobody sold yet)", [])):
        with c.on(case, "build rows of plain values (item['score']['N'] is text), then pd.DataFrame(rows, columns=[...])"):
            got = function(given)
            c.expect(isinstance(got, pd.DataFrame), f"it returned a {type(got).__name__}, not a DataFrame",
                     "return pd.DataFrame(rows, columns=['userId', 'role', 'name', 'score'])")
            c.expect(list(got.columns) == list(_SCORE_DTYPES), f"its columns are {list(got.columns)}",
                     "columns userId, role, name, score, in that order: pd.DataFrame(rows, columns=[...]) "
                     "keeps them even when there are no rows")
            dtypes = {column: str(dtype) for column, dtype in got.dtypes.items()}
            c.expect(dtypes == _SCORE_DTYPES, f"its dtypes are {dtypes}",
                     ".astype({'userId': 'string', 'role': 'string', 'name': 'string', 'score': 'int64'}): "
                     "DynamoDB sends numbers as text, and text sorts '9' above '12'")
            expected = sorted(_BOARD, key=lambda r: (r[1], -r[3], r[0])) if given else []
            rows = [tuple(row) for row in got.astype(object).itertuples(index=False)]
            c.expect(rows == expected, f"its rows are {rows!r:.160}",
                     "sort_values(['role', 'score', 'userId'], ascending=[True, False, True]): highest first, ties by userId")
            c.expect(list(got.index) == list(range(len(got))), f"its index is {list(got.index)}",
                     "sort with ignore_index=True, so the rows are numbered 0..n-1")
    return "string and int64 columns, highest first, empty too"


def _chart_axes(fig):
    """The one Axes of a participant's chart, or what is wrong with what they returned."""
    try:
        return figures.axes_of(fig)
    except ValueError as error:
        raise _Wrong(str(error), "return the Figure you drew on (fig), one chart on one Axes") from None


def _titled(c, ax, axes_say):
    text = figures.titles(ax)
    c.expect(text["title"], "the chart has no title", "ax.set_title(...): say what the room is looking at")
    c.expect(text["x"] and text["y"], f"an axis has no title (x: {text['x']!r}, y: {text['y']!r})",
             f"ax.set_xlabel(...) and ax.set_ylabel(...): {axes_say}")


def leaderboard_chart(function):
    """Check leaderboard_chart(scores, role, top=10) -> a Figure with sorted, labelled bars and the leader marked."""
    _check("leaderboard_chart", _leaderboard_chart, function)


def _board_frame(rows):
    frame = pd.DataFrame(rows, columns=list(_SCORE_DTYPES)).astype(_SCORE_DTYPES)
    return frame.sample(frac=1, random_state=7, ignore_index=True)  # in no particular order, as a Scan returns


def _leaderboard_chart(c, function):
    untied = _BOARD[:2] + [("m6", "merchant", "Mel", 5)] + _BOARD[4:]
    cases = [("four merchants and a photographer", untied, 10, ["Mia", "Max", "Mel", "Mae"], 1),
             ("three merchants tied at the top, top=3", [(u, r, n, 9) for u, r, n, _ in _BOARD[:4]] + _BOARD[4:],
              3, ["Mia", "Max", "Mo"], 3)]
    for case, rows, top, names, leaders in cases:
        with c.on(case, "build it on a Figure: fig = Figure(); ax = fig.subplots(); ax.barh(...); return fig"):
            fig = function(_board_frame(rows), "merchant", top=top)
            ax = _chart_axes(fig)
            drawn = figures.bars(ax)
            c.expect(drawn, "the chart has no bars", "draw them with ax.barh(names, scores) (or ax.bar)")
            values = [int(bar.value) for bar in drawn]
            c.expect(len(drawn) == len(names), f"it has {len(drawn)} bars, expected {len(names)}",
                     "only this role's contributors, the top ones: scores[scores['role'] == role], then .head(top)")
            c.expect(values == sorted(values, reverse=True), f"the bars read {values} from the first to the last",
                     "sort highest first; with barh the first bar is drawn at the bottom: ax.invert_yaxis()")
            labels = [bar.label for bar in drawn]
            c.expect(labels == names, f"the bars are labelled {labels}, expected {names}",
                     "label each bar with the contributor's name (the name column), ties by userId")
            colours = [bar.colour for bar in drawn]
            c.expect(len(set(colours[:leaders])) == 1 and colours[0] not in colours[leaders:],
                     "the leader is not marked" if leaders == 1 else "not every leader is marked alike",
                     "colour every bar at the top score apart from the rest: color=[...] with one colour per bar")
            _titled(c, ax, "what the bars measure, and who they are")
    return "sorted bars, names, leaders marked, titled"


# --- lesson 5 --------------------------------------------------------------------------------------

def purchase_once(function):
    """Check purchase_once(dynamodb, table_names, event, shard_id, sequence_number) against mock tables."""
    _check("purchase_once", _purchase_once, function)


def _purchase_once(c, function):
    marker_hint = ("condition the product's update on its marker: ConditionExpression='attribute_not_exists(#marker) "
                   "OR #marker < :seq' with #marker = marker_attribute(shard_id) and :seq = seq_key(sequence_number)")
    with _tables() as (db, names):
        _put_product(db, names, "p1", merchant=("m1", "Mia"), photographer=("f1", "Finn"))
        with c.on("a first purchase", "one transact_write_items: the product's update and the score updates; the "
                  "marker is text, {'S': seq_key(sequence_number)}, and sequence_number is text already, as Lambda sends it"):
            got = function(db, names, _purchase("p1"), SHARD, "9")
            c.expect(got is True, f"it returned {got!r}, expected True", "return True when the purchase was counted")
            c.expect(_product(db, names, "p1").get("purchases") == 1 and
                     _scores(db, names) == {("m1", "merchant"): 1, ("f1", "photographer"): 1},
                     f"purchases {_product(db, names, 'p1').get('purchases')}, scores {_scores(db, names)}",
                     "add 1 to the product's purchases and to its merchant's and photographer's scores")
        with c.on("the same record delivered again (a duplicate)",
                  "catch dynamodb.exceptions.TransactionCanceledException; cancelled_by_condition(error) says it was a repeat"):
            got = function(db, names, _purchase("p1"), SHARD, "9")
            c.expect(_product(db, names, "p1").get("purchases") == 1, "the duplicate was counted again", marker_hint)
            c.expect(got is False, f"it returned {got!r} for a repeat", "return False when the condition failed")
        with c.on("the next record, sequence number '10' after '9' (Lambda sends them as text)",
                  "compare seq_key(sequence_number), whose text order is numeric order"):
            got = function(db, names, _purchase("p1"), SHARD, "10")
            c.expect(got is True and _product(db, names, "p1").get("purchases") == 2,
                     "purchase 10 was taken for a repeat of 9",
                     "as text '10' < '9': store and compare seq_key(sequence_number), not the plain number")
        with c.on("an older record of a batch delivered again (sequence number 5)"):
            function(db, names, _purchase("p1"), SHARD, "5")
            c.expect(_product(db, names, "p1").get("purchases") == 2, "an old record was counted again", marker_hint)
            c.expect(_scores(db, names)[("m1", "merchant")] == 2, "a repeat moved a score",
                     "put the score updates in the same transaction as the product's conditional update")
        with c.on("a record of another shard (each shard numbers its records itself)"):
            function(db, names, _purchase("p1"), "shardId-000000000001", "3")
            c.expect(_product(db, names, "p1").get("purchases") == 3, "it was taken for a repeat",
                     "keep one marker per shard: name it marker_attribute(shard_id)")
        with c.on("a purchase of a product nobody added or photographed yet",
                  "add score updates only for the roles the item has"):
            got = function(db, names, _purchase("p9"), SHARD, "11")
            c.expect(got is True and _product(db, names, "p9").get("purchases") == 1,
                     "it was not counted on the product", "count it on the product even without contributors")
    return "duplicates and older records skipped, one marker per shard"


def handle_batch_once(function):
    """Check handle_batch_once(event, dynamodb, table_names): duplicates, a redelivery, a failed write."""
    _check("handle_batch_once", _handle_batch_once, function)


def _handle_batch_once(c, function):
    batch, expected = _day_batch()
    doubled = {"Records": batch["Records"][:3] + batch["Records"]}  # a record repeated within the batch
    with _tables() as (db, names):
        with c.on("a batch with repeated records", "use purchase_once for purchases, with the record's shard "
                  "(record['eventID'] up to its last ':') and sequence number (record['kinesis']['sequenceNumber'])"):
            got = function(doubled, db, names)
            c.expect(got == {"batchItemFailures": []}, f"it returned {got!r}", "return {'batchItemFailures': []} when all went well")
            c.expect(_scores(db, names) == expected, f"the scores are {_scores(db, names)}, expected {expected}",
                     "count purchases with purchase_once(dynamodb, table_names, event, shard_id, record['kinesis']['sequenceNumber'])")
        with c.on("the whole batch delivered again"):
            function(batch, db, names)
            c.expect(_scores(db, names) == expected, f"the scores are {_scores(db, names)} after a redelivery",
                     "every purchase must go through purchase_once, so a redelivered record changes nothing")
    with _tables() as (db, names):
        failing = doubles.FailingOnce(db, "transact_write_items", nth=1)
        with c.on("a batch whose first purchase is throttled",
                  "catch botocore's ClientError around the writes of a record and return that record's sequence number"):
            got = function(batch, failing, names)
            third = batch["Records"][2]["kinesis"]["sequenceNumber"]
            c.expect(got == {"batchItemFailures": [{"itemIdentifier": third}]},
                     f"it returned {got!r}, expected the third record ({third}) reported",
                     "on a ClientError return {'batchItemFailures': [{'itemIdentifier': record['kinesis']['sequenceNumber']}]}"
                     " at once: Lambda then delivers the batch again from that record")
        with c.on("the retry from the failed record"):
            rest = {"Records": [r for r in batch["Records"] if int(r["kinesis"]["sequenceNumber"]) >= int(third)]}
            function(rest, db, names)
            c.expect(_scores(db, names) == expected, f"after the retry the scores are {_scores(db, names)}",
                     "stop at the first failed record: the records after it come again with the retry")
    return "repeats counted once, a failed write reported and retried"


# --- lesson 6 --------------------------------------------------------------------------------------

def sales_per_category(function):
    """Check sales_per_category(frame) -> Series of purchases per category."""
    _check("sales_per_category", _sales_per_category, function)


def _frame(*sequence):
    return eventlog.to_frame(sequence)


def _at(minute):
    return f"2017-06-13T16:{minute:02d}:00.000Z"


def _bought(product, minute, customer="c1"):
    return events.product_purchase(customer, "Cy", product, time=_at(minute))


def contributor_sales(function):
    """Check contributor_sales(frame, role) -> per contributor and product: sales, first and last sale."""
    _check("contributor_sales", _contributor_sales, function)


_SALES_COLUMNS = ["userId", "name", "productId", "sales", "firstSale", "lastSale"]


def _sales_rows(table):
    return [(str(u), str(n), str(p), int(s), pd.Timestamp(f), pd.Timestamp(last))
            for u, n, p, s, f, last in table[_SALES_COLUMNS].itertuples(index=False)]


def _contributor_sales(c, function):
    day = _frame(_create("m1", "Mia", "p1"), _create("m2", "Max", "p2"), _create("m2", "Max", "p3"),
                 _bought("p1", 5),
                 events.product_image("f1", "Finn", "p1", "https://example.com/p1.jpg", time=_at(7)), _bought("p1", 9), _bought("p2", 12),
                 _create("m9", "Moe", "p2"), _bought("p3", 20), _bought("p3", 22), _bought("p3", 25), _bought("p1", 30),
                 _bought("p7", 31))
    cases = [("the merchants of a small day (p2 created twice: a conflict)", "merchant",
              "who added a product is analysis.attribution(frame)'s answer: the first create wins"),
             ("its photographers (p1 was bought once before its photo)", "photographer",
              "every purchase of the product counts, also those before the photo: join the purchases per product "
              "to attribution(frame), whenever they happened")]
    for case, role, hint in cases:
        with c.on(case, "group the purchases by productId (size, min and max of time), then join analysis.attribution"):
            got = function(day, role)
            c.expect(isinstance(got, pd.DataFrame), f"it returned a {type(got).__name__}, not a DataFrame",
                     "return a DataFrame with columns " + ", ".join(_SALES_COLUMNS))
            c.expect(list(got.columns) == _SALES_COLUMNS, f"its columns are {list(got.columns)}",
                     "columns userId, name, productId, sales, firstSale, lastSale: rename the role's columns of "
                     "attribution, and agg(sales='size', firstSale='min', lastSale='max') on the purchases' time")
            want = analysis.sales_by_contributor(day)
            want = want[want["role"] == role]
            rows, expected = _sales_rows(got), _sales_rows(want)
            c.expect(sorted(rows, key=str) == sorted(expected, key=str),
                     f"its rows are {_brief(rows)}, expected {_brief(expected)}", hint)
            c.expect(rows == expected, f"its rows are in the order {[r[2] for r in rows]}, expected {[r[2] for r in expected]}",
                     "the contributor with most sales first (their total: groupby('userId')['sales'].transform('sum')), "
                     "ties by userId, then their products by sales, ties by productId")
            c.expect(list(got.index) == list(range(len(got))), f"its index is {list(got.index)}",
                     "sort with ignore_index=True, so the rows are numbered 0..n-1")
    return "conflicts, purchases before the photo, first and last sale"


def _brief(rows):
    return [(user, product, sales, f"{first:%H:%M}-{last:%H:%M}") for user, _, product, sales, first, last in rows]


def race_chart(function):
    """Check race_chart(race, role) -> a Figure with one cumulative line per contributor, a legend and titles."""
    _check("race_chart", _race_chart, function)


def _race(*sales):
    """A sales race as analysis.sales_race returns it, from (minute, userId, name) purchases, leader first."""
    rows = pd.DataFrame([(pd.Timestamp(_at(m)), u, n) for m, u, n in sales], columns=["time", "userId", "name"])
    rows["sales"] = rows.groupby("userId").cumcount() + 1
    return rows.astype({"userId": "category", "name": "category"})


def _race_chart(c, function):
    race = _race((1, "m1", "Mia"), (3, "m1", "Mia"), (4, "m1", "Mia"), (2, "m2", "Max"), (5, "m2", "Max"), (7, "m3", "Mo"))
    with c.on("a race of three merchants", "one line per contributor: for _, line in race.groupby('userId', "
              "observed=True): ax.step(line['time'], line['sales'], where='post', label=...)"):
        fig = function(race, "merchant")
        ax = _chart_axes(fig)
        drawn = figures.lines(ax)
        c.expect(drawn, "the chart has no labelled lines", "draw each contributor's line with label=their name")
        c.expect(set(drawn) == {"Mia", "Max", "Mo"}, f"its lines are labelled {sorted(drawn)}",
                 "one line per contributor (groupby('userId')), labelled with their name, not their userId")
        finals = {label: ys[-1] for label, ys in drawn.items()}
        c.expect(finals == {"Mia": 3, "Max": 2, "Mo": 1}, f"the lines end at {finals}, expected Mia 3, Max 2, Mo 1",
                 "plot the sales column: it already counts up, one more at each purchase")
        c.expect(all(ys == sorted(ys) for ys in drawn.values()), "a line goes down", "plot each line in time order")
        c.expect(ax.get_legend() is not None, "the chart has no legend", "ax.legend(): which line is whose")
        _titled(c, ax, "time, and cumulative sales")
    return "one cumulative line each, named, with a legend and titles"


def _sales_per_category(c, function):
    cases = [
        ("two products in two categories", "count purchases per category of the purchased product",
         _frame(_create("m1", "Mia", "p1", "Shoes"), _create("m1", "Mia", "p2", "Tops"),
                _purchase("p1"), _purchase("p2"), _purchase("p1")), [("Shoes", 2), ("Tops", 1)]),
        ("a product created twice with two categories (a conflict)", ("a product's category is its first create's: "
         "drop_duplicates('productId') on the creates"),
         _frame(_create("m1", "Mia", "p1", "Shoes"), _create("m2", "Max", "p1", "Beauty"), _purchase("p1")),
         [("Shoes", 1)]),
        ("a purchase of a product nobody created", "leave out purchases whose product has no category (dropna)",
         _frame(_create("m1", "Mia", "p1", "Tops"), _purchase("p1"), _purchase("p7")), [("Tops", 1)]),
        ("two categories with as many purchases (a tie)", ("order ties by category name: sort_index(), then a "
         "stable sort_values(ascending=False)"),
         _frame(_create("m1", "Mia", "p1", "Tops"), _create("m1", "Mia", "p2", "Beauty"), _purchase("p1"),
                _purchase("p2")), [("Beauty", 1), ("Tops", 1)]),
    ]
    for case, hint, frame, expected in cases:
        with c.on(case, "work on the frame's columns kind, productId and category"):
            got = function(frame)
            c.expect(isinstance(got, pd.Series), f"it returned a {type(got).__name__}, not a Series",
                     "return a Series indexed by category, e.g. from value_counts()")
            pairs = [(str(k), int(v)) for k, v in got.items()]
            c.expect(pairs == expected, f"it returned {pairs}, expected {expected}", hint)
    return "conflicts, unknown products and ties handled"


# --- lesson 7 --------------------------------------------------------------------------------------

_FILLERS = 105  # one page of ListTables holds 100 names


def _leftover_stage(session):
    """Stage alice with three leftovers (its table on ListTables' second page), beside look-alikes that are not its."""
    clients = {name: session.client(name) for name in ("kinesis", "dynamodb", "lambda", "iam")}
    dynamodb, mine, theirs = clients["dynamodb"], naming.tags("alice"), naming.tags("alice-2")

    def table(name, tags=None):
        dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **({"Tags": tagging.as_pairs(tags)} if tags else {}),
                              KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])

    for number in range(_FILLERS):
        table(f"aa-filler-{number:03d}")
    table("hw-alice-Scores", mine)
    table("hw-alice-notes")
    role = clients["iam"].create_role(RoleName="hw-alice-consumer", AssumeRolePolicyDocument=json.dumps(models.LAMBDA_TRUST),
                                      Tags=tagging.as_pairs(mine))["Role"]["Arn"]
    clients["lambda"].create_function(FunctionName="hw-alice-consumer", Runtime=models.RUNTIME, Role=role,
                                      Handler=models.CONSUMER_HANDLER, Code={"ZipFile": _tiny_zip("#")}, Tags=mine)
    clients["kinesis"].create_stream(StreamName="hw-alice-2-stream", ShardCount=1)
    clients["kinesis"].add_tags_to_stream(StreamName="hw-alice-2-stream", Tags=theirs)
    return clients


_LEFTOVERS = [("function", "hw-alice-consumer"), ("role", "hw-alice-consumer"), ("table", "hw-alice-Scores")]
_NOT_ALICES = {("table", "hw-alice-notes"): ("it lacks the kit's tags: somebody else's, never yours to delete",
                                             "confirm by tags: naming.tags(stage).items() <= tags_of(clients, kind, name).items()"),
               ("stream", "hw-alice-2-stream"): ("it is stage alice-2's, whose names share your prefix hw-alice-",
                                                 "compare both tags of naming.tags(stage), the stage's too, not only the kit's")}


def stage_leftovers(function):
    """Check stage_leftovers(clients, prefix, stage) -> sorted (kind, name), on a stage with leftovers."""
    _check("stage_leftovers", _stage_leftovers, function)


def _stage_leftovers(c, function):
    with _mocked() as session:
        clients = _leftover_stage(session)
        with c.on("stage alice with a table, a function and a role left, and look-alikes",
                  "for each kind of LISTINGS, read every page with clients[service].get_paginator(operation).paginate()"):
            with _calls(clients["dynamodb"]) as made:
                got = function(clients, "hw-alice-", "alice")
            others = [params.get("TableName") or params.get("ResourceArn") for name, params in made
                      if name in ("DescribeTable", "ListTagsOfResource")
                      and "hw-alice-" not in (params.get("TableName") or params.get("ResourceArn", ""))]
            c.expect(not others, f"it asked for the tags of {others[0] if others else ''}, which is not named like your stage",
                     "filter by name first (name.startswith(prefix)), then ask for tags: on AWS you may not even read "
                     "the tags of others' resources, and each ask is a call")
            c.expect(isinstance(got, list), f"it returned a {type(got).__name__}, not a list", "return sorted(left)")
            found = [tuple(item) for item in got]
            for item in _LEFTOVERS:
                c.expect(item in found, f"it missed {item[0]} {item[1]}" + (f" (on the second page of ListTables: "
                         f"{_FILLERS + 2} tables)" if item[0] == "table" else ""),
                         "read every page: get_paginator(operation).paginate(); ListTables gives 100 names a page")
            for item, (what, hint) in _NOT_ALICES.items():  # the untagged one first: then no tag was compared
                c.expect(item not in found, f"it listed {item[0]} {item[1]}: {what}", hint)
            c.expect(set(found) <= set(_LEFTOVERS), f"it listed {sorted(set(found) - set(_LEFTOVERS))}, not stage alice's",
                     "keep only what is named with the prefix and tagged naming.tags(stage)")
            c.expect(found == _LEFTOVERS, f"it returned {found}", "return them sorted: sorted(left)")
        delete = {"table": lambda name: clients["dynamodb"].delete_table(TableName=name),
                  "function": lambda name: clients["lambda"].delete_function(FunctionName=name),
                  "role": lambda name: clients["iam"].delete_role(RoleName=name)}
        for kind, name in _LEFTOVERS:
            delete[kind](name)
        with c.on("the same stage after its teardown"):
            got = function(clients, "hw-alice-", "alice")
            c.expect(list(got) == [], f"it returned {got!r}", "nothing of the stage is left: return []")
    return "every page read, look-alikes left out, nothing left after teardown"
