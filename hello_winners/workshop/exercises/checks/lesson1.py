"""The checkers of lesson 1, the stream."""

import contextlib
import hashlib


from hello_winners import events
from hello_winners.errors import EventError
from hello_winners.workshop.exercises.checks import samples
from hello_winners.workshop.exercises.checks.cases import Wrong, check


_STREAM = "check-stream"


@contextlib.contextmanager
def _stream():
    """A fresh two-shard stream in moto, as lesson 1 creates it."""
    with samples.mocked() as session:
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
    check("put_event", _put_event, function)


def _put_event(c, function):
    key_hint = "PartitionKey=events.partition_key(event): the product id, so all events of a product share a shard"
    with _stream() as kinesis:
        cases = [("a merchant's product/create of p1", samples.create("m1", "Mia", "p1")),
                 ("a photographer's product/image of p1", samples.image("f1", "Finn", "p1")),
                 ("a customer's product/purchase of p1", samples.purchase("p1")),
                 ("a purchase of another product, p4", samples.purchase("p4", customer="c2"))]
        before = []
        for case, event in cases:
            with c.on(case, "kinesis.put_record(StreamName=stream_name, Data=events.encode(event), PartitionKey=...)",
                      key="kinesis-put-record-streamname-stream"):
                got = function(kinesis, _STREAM, event)
                records = _on_stream(kinesis)
                new = [record for record in records if record not in before]
                c.expect(len(new) == 1, f"it put {len(new)} records for one event",
                         "put exactly one record per event: one put_record call", key="put-exactly-one-record-per")
                (shard, sequence, key, data), before = new[0], records
                product = event["data"]["id"]
                c.expect(key == product, f"its partition key is {key!r:.80}, expected the product id {product!r}", key_hint,
                         key="partition-key-product-id")
                c.expect(shard == _shard_of(kinesis, product), f"it landed in {shard}, but key {product!r} belongs to "
                         f"{_shard_of(kinesis, product)}", "do not pass ExplicitHashKey: let the key choose the shard",
                         key="do-not-pass-explicithashkey-let")
                c.expect(_decoded_or_none(data) == event, f"its data is {bytes(data)!r:.80}, not the event's JSON",
                         "Data=events.encode(event): the event as compact JSON bytes",
                         key="data-events-encode-event-event")
                c.expect(got == (shard, sequence), f"it returned {got!r:.120}, expected ({shard!r}, {sequence!r})",
                         "return (response['ShardId'], response['SequenceNumber']) of put_record's response",
                         key="return-response-shardid-response-sequencenumber")
        shards = {record[0] for record in before}
        invalid = samples.purchase("p5")
        invalid["data"]["coupon"] = "FREE"
        with c.on("a purchase with a property its schema does not allow"):
            try:
                function(kinesis, _STREAM, invalid)
            except EventError:
                pass
            else:
                raise Wrong("it returned without raising EventError",
                            "check the event with events.validate(event) before putting it: it raises EventError",
                            key="check-event-events-validate-event")
            c.expect(len(_on_stream(kinesis)) == len(cases), "the invalid event is on the stream now",
                     "validate first, then put: once on the stream, every consumer has to cope with it forever",
                     key="validate-first-put-once-stream")
    return f"one shard per product ({len(shards)} shards used), invalid events refused"


def _decoded_or_none(data):
    try:
        return events.decode(data)
    except EventError:
        return None


def read_back(function):
    """Check read_back(kinesis, stream_name, shard_id, sequence_number) -> the event of that record."""
    check("read_back", _read_back, function)


def _read_back(c, function):
    with _stream() as kinesis:
        put = [samples.create("m1", "Mia", "p1"), samples.image("f1", "Finn", "p1"), samples.purchase("p1"), samples.purchase("p4", customer="c2")]
        where = [kinesis.put_record(StreamName=_STREAM, Data=events.encode(e), PartitionKey=e["data"]["id"]) for e in put]
        iterator_hint = ("kinesis.get_shard_iterator(StreamName=..., ShardId=shard_id, ShardIteratorType="
                         "'AT_SEQUENCE_NUMBER', StartingSequenceNumber=sequence_number), then get_records(..., Limit=1)")
        for number in (1, 0, 3):
            event, placed = put[number], where[number]
            with c.on(f"record {placed['SequenceNumber'][-6:]} of {placed['ShardId']} (the {events.kind(event)} of "
                      f"{event['data']['id']})", iterator_hint, key="at-sequence-number-iterator"):
                got = function(kinesis, _STREAM, placed["ShardId"], placed["SequenceNumber"])
                c.expect(isinstance(got, dict), f"it returned a {type(got).__name__}, not the event dict",
                         "events.decode(record['Data']) turns the record's bytes into the event",
                         key="events-decode-record-data-turns")
                what = (f"it returned the {_kind_or(got)} of {got.get('data', {}).get('id')}, expected the "
                        f"{events.kind(event)}")
                from_shard = next((w["ShardId"] for e, w in zip(put, where) if e == got), placed["ShardId"])
                c.expect(got == event or from_shard == placed["ShardId"], f"{what}: that one is on {from_shard}",
                         "a sequence number names a record within its shard only (each shard numbers its own): read "
                         "the shard you are given, get_shard_iterator(StreamName=..., ShardId=shard_id, ...)",
                         key="read-the-shard-you-are-given")
                c.expect(got == event, what, "start the iterator AT_SEQUENCE_NUMBER (not TRIM_HORIZON, which is "
                         "the shard's oldest record, nor AFTER_SEQUENCE_NUMBER, the one after it)",
                         key="start-iterator-at-sequence-number")
    return "each record found by its shard and sequence number"


def _kind_or(event):
    try:
        return events.kind(event)
    except EventError:
        return "event"
