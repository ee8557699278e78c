"""The checkers of lesson 2, write the consumer."""

import binascii


from hello_winners import events
from hello_winners.errors import EventError
from hello_winners.workshop.exercises.checks import samples
from hello_winners.workshop.exercises.checks.cases import Wrong, check


_B64_HINT = ("record['kinesis']['data'] is base64 text: base64.b64decode it, then turn the bytes into a dict "
             "with events.decode")


def decode_record(function):
    """Check decode_record(record) -> the event dict, EventError for a bad record."""
    check("decode_record", _decode_record, function)


def _decode_record(c, function):
    event = samples.create("m1", "Zoë", "p1")
    with c.on("a good record", _B64_HINT, key="record-kinesis-data-base64-text"):
        got = function(samples.record(event, 1))
        c.expect(not isinstance(got, (bytes, str)), f"it returned {type(got).__name__}, not the event dict",
                 "events.decode turns the JSON bytes into a dict", key="events-decode-turns-json-bytes")
        c.expect(got == event, f"it returned {got!r:.120}, not the event", _B64_HINT,
                 key="record-kinesis-data-base64-text")
    for case, record in (("a record whose data is not base64", samples.raw_record("%%% not base64 %%%", 2)),
                         ("a record that is not JSON", samples.record(b"hello, retail", 3)),
                         ("a record holding a JSON list, not an object", samples.record(b"[1, 2, 3]", 4))):
        with c.on(case):
            try:
                got = function(record)
            except EventError:
                continue
            except Exception as error:  # noqa: BLE001
                raise Wrong(f"it raised {_qualified(error)}, not EventError", _decode_hint(error),
                            key="decode-hint") from None
            if not isinstance(got, dict):
                raise Wrong(f"it returned {got!r:.80} instead of raising EventError",
                            "an event is a JSON object: json.loads takes any JSON value (a list, a number, a text); "
                            "events.decode refuses all but an object", key="an-event-is-a-json-object")
            raise Wrong(f"it returned {got!r:.80} instead of raising EventError",
                        "decode with base64.b64decode(..., validate=True) and events.decode: both refuse bad input",
                        key="decode-base64-b64decode-validate-true")
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
    check("validate_event", _validate_event, function)


def _validate_event(c, function):
    good = [("a product/create", samples.create("m1", "Mia", "p1"), "create"),
            ("a product/purchase", samples.purchase("p1"), "purchase"),
            ("a product/view", events.product_view("c1", "Cy", "p1", time=samples.TIME), "product-view")]
    for case, event, kind in good:
        with c.on(case, "validate with events.validate, then return events.kind(event)",
                  key="validate-events-validate-return-events"):
            got = function(event)
            c.expect(not isinstance(got, dict), "it returned the event, not its kind",
                     "return the short kind: events.kind(event)", key="return-short-kind-events-kind")
            c.expect(got is not None, f"it returned None for a valid event, expected {kind!r}",
                     "None says the event is invalid: return events.kind(event) for every valid one, also for "
                     "the kinds the consumer then skips", key="none-says-the-event-is-invalid")
            c.expect(got == kind, f"it returned {got!r}, expected {kind!r}",
                     "return events.kind(event): the kit's short kind (a view is 'product-view'), not the schema id "
                     "nor a part of it", key="return-events-kind-event-short")
    missing = samples.purchase("p1")
    del missing["data"]["id"]
    unknown = samples.purchase("p1")
    unknown["data"]["schema"] = "com.nordstrom/product/refund/1-0-0"
    extra = samples.purchase("p1")
    extra["data"]["coupon"] = "FREE"
    bad = [("a purchase without its product id", missing), ("an event with an unknown data schema", unknown),
           ("a purchase with a property its schema does not allow", extra), ("a JSON list instead of an event", [1, 2])]
    for case, event in bad:
        with c.on(case, "validate before reading any field: an invalid event may not even be a dict, and "
                  "events.validate raises EventError for anything off-schema (catch it and return None)",
                  key="validate-before-reading-any-field"):
            try:
                got = function(event)
            except EventError as error:
                if _raised_in(error, events.kind):
                    raise Wrong("it raised EventError, from events.kind, instead of returning None",
                                "events.kind reads only the schema id: check the whole event with events.validate "
                                "first, and return None when it raises EventError",
                                key="validate-before-kind") from None
                raise Wrong("it raised EventError instead of returning None",
                            "catch EventError and return None: the consumer skips a bad event, it must not crash",
                            key="catch-eventerror-return-none-consumer") from None
            c.expect(got is None, f"it returned {got!r} for an invalid event",
                     "check the event with events.validate first: it raises EventError for anything off-schema",
                     key="check-event-events-validate-first")
    return "including events that break their schema"


def _raised_in(error, function):
    """Whether ``error`` was raised by ``function`` itself (the innermost frame of its traceback)."""
    last = error.__traceback__
    while last.tb_next is not None:
        last = last.tb_next
    return last.tb_frame.f_code is function.__code__


_SCORES_HINT = "give points with add_to_score(dynamodb, table_names, user_id, role, name, amount)"
_NOBODY_HINT = ("events.parse_origin returns None for an origin that names nobody: then return False and change "
                "nothing")


def record_contribution(function):
    """Check record_contribution(dynamodb, table_names, event) against mock tables."""
    check("record_contribution", _record_contribution, function)


def _record_contribution(c, function):
    with samples.mock_tables() as (db, names):
        with c.on("the create of a new product", "SET merchant and merchantName with update_item on Contributions",
                  key="set-merchant-merchantname-update-item"):
            got = function(db, names, samples.create("m1", "Mia", "p1"))
            item = samples.product_of(db, names, "p1")
            c.expect(item.get("merchant") == "m1" and item.get("merchantName") == "Mia",
                     f"the product's item is {item}, expected merchant 'm1' and merchantName 'Mia'",
                     "the merchant is the unique id of the origin, its name the display name (events.parse_origin)",
                     key="merchant-unique-id-origin-name")
            c.expect(got is True, f"it returned {got!r}, expected True", "return True when the contributor is recorded",
                     key="return-true-when-contributor-recorded")
            c.expect(not samples.scores_of(db, names), f"the Scores table holds {samples.scores_of(db, names)} for a product nobody bought",
                     "only contributors with sales have a score: add the product's purchases, which are 0 here",
                     key="only-contributors-sales-have-score")
        with c.on("the photo of the same product", "SET photographer and photographerName on the same item",
                  key="set-photographer-photographername-same-item"):
            function(db, names, samples.image("f1", "Finn", "p1"))
            item = samples.product_of(db, names, "p1")
            c.expect(item.get("photographer") == "f1" and item.get("photographerName") == "Finn",
                     f"the product's item is {item}, expected photographer 'f1' and photographerName 'Finn'",
                     "an image names the product's photographer: the role is ROLES[events.kind(event)], and its "
                     "attributes are role and role + 'Name'", key="the-role-comes-from-the-kind")
            c.expect(item.get("merchant") == "m1", f"the product's item is {item}: its merchant m1 is gone",
                     "update only the attributes of the event's role and keep the others: update_item with SET, "
                     "not put_item, which replaces the whole item", key="update-only-attributes-events-role")
        with c.on("a second create of the same product by someone else (a conflict)",
                  "catch dynamodb.exceptions.ConditionalCheckFailedException and return False",
                  key="catch-dynamodb-exceptions-conditionalcheckfailedexception-return"):
            got = function(db, names, samples.create("m2", "Max", "p1"))
            item = samples.product_of(db, names, "p1")
            c.expect(item.get("merchant") == "m1", f"the merchant became {item.get('merchant')!r}",
                     "the first create wins: add ConditionExpression='attribute_not_exists(merchant)'",
                     key="first-create-wins-add-conditionexpression")
            c.expect(got is False, f"it returned {got!r}, expected False", "return False when the product already has one",
                     key="return-false-when-product-already")
        samples.put_product(db, names, "p2", purchases=2, merchant=("m1", "Mia"))
        with c.on("a photo of a product bought twice before it was photographed"):
            function(db, names, samples.image("f2", "Fay", "p2"))
            got = samples.scores_of(db, names).get(("f2", "photographer"))
            c.expect(got == 2, f"the photographer's score is {got}, expected 2",
                     "purchases made before the photo count too: ask update_item for ReturnValues='ALL_NEW' "
                     "and add the item's purchases to the score; " + _SCORES_HINT,
                     key="purchases-made-before-photo-count")
        with c.on("a create whose origin names nobody", _NOBODY_HINT, key="events-parse-origin-returns-none"):
            event = samples.create("m3", "Mo", "p3")
            event["origin"] = "nobody"
            got = function(db, names, event)
            c.expect(got is False and "merchant" not in samples.product_of(db, names, "p3"),
                     "it recorded a merchant for an origin that names nobody", _NOBODY_HINT,
                     key="events-parse-origin-returns-none")
    return "including a conflict and a purchase before the photo"


def tally_purchase(function):
    """Check tally_purchase(dynamodb, table_names, event) against mock tables."""
    check("tally_purchase", _tally_purchase, function)


def _tally_purchase(c, function):
    with samples.mock_tables() as (db, names):
        samples.put_product(db, names, "p1", merchant=("m1", "Mia"), photographer=("f1", "Finn"))
        samples.put_product(db, names, "p2", merchant=("m1", "Mia"))
        with c.on("a purchase of a product with both contributors",
                  "ADD purchases :one on the product with ReturnValues='ALL_NEW', then score its contributors",
                  key="add-purchases-one-product-returnvalues"):
            function(db, names, samples.purchase("p1"))
            c.expect(samples.product_of(db, names, "p1").get("purchases") == 1,
                     f"the product's purchases are {samples.product_of(db, names, 'p1').get('purchases')}, expected 1",
                     "ADD purchases :one on the product's Contributions item",
                     key="add-purchases-one-products-contributions")
            scores = samples.scores_of(db, names)
            buyer = sorted(key for key in scores if key[0] == "c1")
            c.expect(not buyer, f"it credited the buyer, customer c1 ({buyer[0][1] if buyer else ''}): a purchase earns "
                     "points for the product's merchant and photographer, not for who bought it",
                     "take the contributors from the product's item (update_item with ReturnValues='ALL_NEW'), "
                     "not from the purchase's origin", key="take-contributors-from-products-item")
            c.expect(scores == {("m1", "merchant"): 1, ("f1", "photographer"): 1},
                     f"the scores are {scores}, expected m1 and f1 with 1 each", _SCORES_HINT,
                     key="give-points-add-score-dynamodb")
        with c.on("a purchase of a product nobody has added or photographed yet (a purchase before the photo)",
                  "the item may have no merchant or photographer yet: score only the roles it has",
                  key="item-may-have-no-merchant"):
            function(db, names, samples.purchase("p9"))
            c.expect(samples.product_of(db, names, "p9").get("purchases") == 1,
                     "the purchase was not counted on the product",
                     "count it on the product anyway: record_contribution credits it when the contributor arrives",
                     key="count-product-anyway-record-contribution")
            c.expect(len(samples.scores_of(db, names)) == 2, f"scores changed: {samples.scores_of(db, names)}",
                     "nobody is known for this product yet: give no points", key="nobody-known-product-yet-give")
        with c.on("a purchase of a product with a merchant and no photographer yet",
                  "the item may have no photographer yet: score only the roles it has",
                  key="item-may-have-no-photographer"):
            function(db, names, samples.purchase("p2"))
            scores = samples.scores_of(db, names)
            c.expect(scores.get(("m1", "merchant")) == 2 and ("f1", "photographer") in scores and len(scores) == 2,
                     f"the scores are {scores}, expected m1 at 2 and f1 still at 1", _SCORES_HINT,
                     key="give-points-add-score-dynamodb")
    return "including purchases before the contributors are known"


def handle_batch(function):
    """Check handle_batch(event, dynamodb, table_names) on a small batch against mock tables."""
    check("handle_batch", _handle_batch, function)


def _handle_batch(c, function):
    batch, expected = samples.day_batch()
    with samples.mock_tables() as (db, names), c.on("a batch with a purchase before its photo and three bad records",
              "skip a record decode_record rejects (catch EventError) and an event validate_event "
              "returns None for; dispatch purchases to tally_purchase and creates/images to record_contribution",
                                                    key="skip-record-decode-record-rejects"):
        got = function(batch, db, names)
        c.expect(got == {"batchItemFailures": []}, f"it returned {got!r}",
                 "return {'batchItemFailures': []}: Lambda reads it as 'every record is done'",
                 key="return-batchitemfailures-lambda-reads-every")
        scores = samples.scores_of(db, names)
        c.expect(scores == expected, f"the scores are {scores}, expected {expected}",
                 "apply every record in order: creates and images with record_contribution, purchases "
                 "with tally_purchase; views change nothing", key="apply-every-record-order-creates")
    return "bad records skipped, scores exact"
