"""A Lambda stand-in for the consumer's tests: records shaped as Kinesis delivers them, a shard delivered
as the event source mapping does, a DynamoDB client that fails where told, and readers of the tables.

Shared by test_consumer.py (against moto) and test_consumer_properties.py (hypothesis, on the in-memory
stand-in); a module of its own, so neither test module imports the other.
"""

from botocore.exceptions import ClientError

from hello_winners import events
from hello_winners.view import consumer, tables
from hello_winners.view.delivery import kinesis_record

BASE_SEQ = 49590338271490256608559692538361571095921575989136588898
SHARD_A, SHARD_B = "shardId-000000000000", "shardId-000000000001"


class Crash(Exception):
    """The function dies (timeout, out of memory, lost container) between two DynamoDB calls."""


class Flaky:
    """A DynamoDB client that misbehaves where ``inject(n, method, request)`` says.

    ``inject`` returns None (behave), "crash-before" / "crash-after" (die before or after call n
    reaches DynamoDB), or (code, http_status, applied): a ClientError, raised after the call was
    applied when ``applied`` is true (a 5xx whose write landed anyway).
    """

    def __init__(self, client, inject):
        self.client, self.inject, self.calls = client, inject, 0

    def __getattr__(self, method):
        real = getattr(self.client, method)

        def call(**request):
            n, self.calls = self.calls, self.calls + 1
            action = self.inject(n, method, request)
            if action == "crash-before":
                raise Crash(f"died before call {n} ({method})")
            if isinstance(action, tuple) and not action[2]:
                raise _client_error(action, method)
            response = real(**request)
            if action == "crash-after":
                raise Crash(f"died after call {n} ({method})")
            if isinstance(action, tuple):
                raise _client_error(action, method)
            return response

        return call


def _client_error(action, method):
    code, status, _applied = action
    return ClientError({"Error": {"Code": code, "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       method)


class Context:
    """The bit of the Lambda context the consumer reads."""

    def __init__(self, remaining_ms=60_000):
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self):
        return self.remaining_ms


def records_of(shard, items, start=0):
    """Lambda Kinesis records of events (dicts) or raw bytes, with consecutive realistic seqs."""
    return [kinesis_record(shard, BASE_SEQ + (start + i) * 10, item if isinstance(item, bytes) else events.encode(item))
            for i, item in enumerate(items)]


def deliver(client, names, records, **options):
    options.setdefault("sleep", lambda _s: None)
    options.setdefault("context", Context())
    options.setdefault("log", lambda _line: None)
    return consumer.process({"Records": records}, client, names, **options)


def run_shard(client, names, records, batch_size, max_invocations=200, **options):
    """Deliver a shard like Lambda: batches in order, restart at a reported failure, retry on a crash."""
    position, invocations = 0, 0
    while position < len(records):
        invocations += 1
        assert invocations <= max_invocations, "the shard never finished"
        batch = records[position:position + batch_size]
        try:
            failures = deliver(client, names, batch, **options)["batchItemFailures"]
        except Crash:
            continue
        if failures:
            seqs = [r["kinesis"]["sequenceNumber"] for r in records]
            position = seqs.index(min(failures, key=lambda f: int(f["itemIdentifier"]))["itemIdentifier"])
        else:
            position += len(batch)


def scores(client, names):
    """{(userId, role): score} of every Scores item."""
    items = client.scan(TableName=names[tables.SCORES], ConsistentRead=True)["Items"]
    return {(i["userId"]["S"], i["role"]["S"]): int(i["score"]["N"]) for i in items}


def score_names(client, names):
    items = client.scan(TableName=names[tables.SCORES], ConsistentRead=True)["Items"]
    return {(i["userId"]["S"], i["role"]["S"]): i["name"]["S"] for i in items}


def rejects(client, names):
    """{eventId: item} of the Rejects table, plain strings."""
    items = client.scan(TableName=names[tables.REJECTS], ConsistentRead=True)["Items"]
    return {i["eventId"]["S"]: {k: v["S"] for k, v in i.items()} for i in items}


def contributions(client, names):
    items = client.scan(TableName=names[tables.CONTRIBUTIONS], ConsistentRead=True)["Items"]
    return {i["productId"]["S"]: {k: (v.get("S") or int(v["N"])) for k, v in i.items() if not k.startswith("seq@")}
            for i in items}


def create(merchant, product, name=None):
    return events.product_create(merchant, name or merchant.upper(), product, brand="B", name="N",
                                 description="D", category="Tops")


def image(photographer, product, name=None):
    return events.product_image(photographer, name or photographer.upper(), product, f"https://img/{product}.jpg")


def purchase(product, customer="c1"):
    return events.product_purchase(customer, "Cy", product)


def event_of(kind, product, user):
    """One event of a drawn log: a create, image or purchase, a create whose origin names nobody, a page
    view, or garbage (bytes that are JSON but no event)."""
    if kind == "create":
        return create(user, product)
    if kind == "image":
        return image(user, product)
    if kind == "purchase":
        return purchase(product, customer=user)
    if kind == "nobody":
        return dict(create(user, product), origin="hello-retail")
    if kind == "view":
        return events.product_view(user, user, product)
    return b'{"schema": "garbage"}'
