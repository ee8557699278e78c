"""What the checkers run a participant's function on: sample events and records, and moto sandboxes.

Every AWS case runs in moto's in-process mock, never in the participant's stage, so checking costs
nothing on real AWS either.
"""

import contextlib
import functools
import io
import zipfile

from botocore.awsrequest import AWSResponse

from hello_winners import events
from hello_winners.targets import sessions
from hello_winners.view import tables
from hello_winners.view.delivery import kinesis_record


REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's account
SHARD = "shardId-000000000000"
TIME = "2017-06-13T16:00:00.000Z"


# --- sample events, records and batches ------------------------------------------------------------

def create(user, name, product, category="Shoes"):
    return events.product_create(user, name, product, brand="Northwind", name=f"Boot {product}",
                                 description="A boot.", category=category, time=TIME)


def image(user, name, product):
    return events.product_image(user, name, product, f"https://example.com/{product}.jpg", time=TIME)


def purchase(product, customer="c1"):
    return events.product_purchase(customer, "Cy", product, time=TIME)


def record(event_or_bytes, seq, shard=SHARD):
    data = event_or_bytes if isinstance(event_or_bytes, bytes) else events.encode(event_or_bytes)
    return kinesis_record(shard, seq, data)


def raw_record(data_text, seq):
    record = kinesis_record(SHARD, seq, b"")
    record["kinesis"]["data"] = data_text
    return record


def day_batch():
    """A small Lambda batch with the tricky parts: a purchase before its photo, bad records, a view."""
    sequence = [
        create("m1", "Mia", "p1"), image("f1", "Finn", "p1"), purchase("p1"),
        purchase("p2"), create("m2", "Max", "p2"),
        b"%%% not json", "not base64 !!!", {"schema": events.ENVELOPE_INGRESS, "origin": "x"},
        events.product_view("c1", "Cy", "p1", time=TIME), image("f2", "Fay", "p2"), purchase("p1", "c2"),
        create("m2", "Max", "p1"),
    ]
    records = [raw_record(e, n) if isinstance(e, str) else record(e, n) for n, e in enumerate(sequence, 1)]
    expected = {("m1", "merchant"): 2, ("f1", "photographer"): 2, ("m2", "merchant"): 1, ("f2", "photographer"): 1}
    return {"Records": records}, expected


def tiny_zip(text):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello_winners/consumer.py", text)
    return buffer.getvalue()


# --- moto sandboxes --------------------------------------------------------------------------------

def role_not_ready_once(lam, operation):
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
def mocked():
    """moto's in-process AWS: the checks never touch the participant's stage."""
    from moto import mock_aws

    with mock_aws():
        yield _session()


@functools.cache
def _session():
    """One session for every check: it keeps the service models it has read, a tenth of a second per client."""
    return sessions.session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")


@contextlib.contextmanager
def mock_tables():
    with mocked() as session:
        dynamodb = session.client("dynamodb")
        yield dynamodb, tables.create(dynamodb, "check-")


def product_of(dynamodb, table_names, product):
    item = dynamodb.get_item(TableName=table_names[tables.CONTRIBUTIONS], Key={"productId": {"S": product}},
                             ConsistentRead=True).get("Item", {})
    return {k: (v.get("S") if "S" in v else int(v["N"])) for k, v in item.items() if "S" in v or "N" in v}


def scores_of(dynamodb, table_names):
    """{(userId, role): score} of every Scores item."""
    items = dynamodb.scan(TableName=table_names[tables.SCORES], ConsistentRead=True)["Items"]
    return {(i["userId"]["S"], i["role"]["S"]): int(i["score"]["N"]) for i in items}


def put_product(dynamodb, table_names, product, purchases=0, merchant=None, photographer=None):
    item = {"productId": {"S": product}}
    if purchases:
        item["purchases"] = {"N": str(purchases)}
    for role, who in (("merchant", merchant), ("photographer", photographer)):
        if who:
            item[role], item[role + "Name"] = {"S": who[0]}, {"S": who[1]}
    dynamodb.put_item(TableName=table_names[tables.CONTRIBUTIONS], Item=item)


@contextlib.contextmanager
def calls(client):
    """The operations a client makes, with their parameters, for as long as the block runs."""
    made = []

    def remember(params, model, **_):
        made.append((model.name, dict(params)))

    client.meta.events.register("provide-client-params.dynamodb", remember)
    try:
        yield made
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb", remember)
