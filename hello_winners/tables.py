"""The winner view's DynamoDB tables: their definitions, their creation, and what a write costs.

Three tables, all on-demand (PAY_PER_REQUEST), each named ``prefix + <table>`` and announced to the
consumer and the API through an environment variable:

- ``TABLE_CONTRIBUTIONS_NAME`` (``contributions``): hash ``productId``; the product's ``merchant``,
  ``merchantName``, ``photographer``, ``photographerName`` (absent until known) and ``purchases``.
- ``TABLE_SCORES_NAME`` (``scores``): hash ``userId``, range ``role``; ``score`` and ``name``; global
  secondary index ``ScoresByRole`` (hash ``role``, range ``score``, projection ALL) for the top of a role.
- ``TABLE_REJECTS_NAME`` (``rejects``): hash ``eventId``; every record the consumer will never apply.

The consumer's retry bookkeeping rides on the Contributions and Scores items themselves (one
``seq@<shardId>`` attribute per shard, see :mod:`hello_winners.consumer`), so no further table is needed.

``write_units`` and ``index_write_units`` apply DynamoDB's pricing rules to item images; the consumer's
log line and the write-cost benchmark both use them, so every design is priced the same way.
"""

import math

from botocore.exceptions import ClientError

from .errors import DeployError

CONTRIBUTIONS = "TABLE_CONTRIBUTIONS_NAME"
SCORES = "TABLE_SCORES_NAME"
REJECTS = "TABLE_REJECTS_NAME"
SCORES_INDEX = "ScoresByRole"

_KB = 1024

# Environment variable -> (name suffix, key schema, attribute definitions, global secondary indexes).
_TABLES = {
    CONTRIBUTIONS: ("contributions", [("productId", "HASH")], {"productId": "S"}, []),
    SCORES: (
        "scores",
        [("userId", "HASH"), ("role", "RANGE")],
        {"userId": "S", "role": "S", "score": "N"},
        [(SCORES_INDEX, [("role", "HASH"), ("score", "RANGE")])],
    ),
    REJECTS: ("rejects", [("eventId", "HASH")], {"eventId": "S"}, []),
}


def names(prefix):
    """The mapping of environment variable to table name for a prefix, without touching AWS."""
    return {env: prefix + suffix for env, (suffix, *_rest) in _TABLES.items()}


def keys(variable):
    """The key attribute names of a table (hash first), by its environment variable."""
    return tuple(name for name, _role in _TABLES[variable][1])


def create(dynamodb_client, prefix, tags=None):
    """Create every table the consumer and the API need, wait until active, return :func:`names`.

    Safe to call again: a table that already exists is kept when its keys are the expected ones, and
    a :class:`~hello_winners.errors.DeployError` says which table differs otherwise.

    Examples
    --------
    >>> env = create(boto3.client("dynamodb"), "hw-alice-")   # doctest: +SKIP
    >>> env["TABLE_SCORES_NAME"]                               # doctest: +SKIP
    'hw-alice-scores'
    """
    mapping = names(prefix)
    for env, name in mapping.items():
        _create_one(dynamodb_client, name, *_TABLES[env][1:], tags or {})
    waiter = dynamodb_client.get_waiter("table_exists")
    for name in mapping.values():
        waiter.wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    return mapping


def _create_one(client, name, key, attributes, indexes, tags):
    request = {
        "TableName": name,
        "KeySchema": _key_schema(key),
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": t} for a, t in attributes.items()],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if indexes:
        request["GlobalSecondaryIndexes"] = [
            {"IndexName": index, "KeySchema": _key_schema(index_key), "Projection": {"ProjectionType": "ALL"}}
            for index, index_key in indexes
        ]
    if tags:
        request["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    try:
        client.create_table(**request)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
        _check_existing(client, name, key, attributes, indexes)


def _check_existing(client, name, key, attributes, indexes):
    """An existing table is reused only if its keys and indexes are the ones the consumer relies on."""
    table = client.describe_table(TableName=name)["Table"]
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    indexes_found = {i["IndexName"]: _pairs(i["KeySchema"]) for i in table.get("GlobalSecondaryIndexes", [])}
    same = (
        _pairs(table["KeySchema"]) == key
        and all(types.get(a) == t for a, t in attributes.items())
        and all(indexes_found.get(index) == index_key for index, index_key in indexes)
    )
    if not same:
        raise DeployError(
            f"the table {name} already exists with other keys than hello-winners expects; delete it "
            "or choose another stage, then create the tables again"
        )


def _key_schema(pairs):
    return [{"AttributeName": a, "KeyType": t} for a, t in pairs]


def _pairs(key_schema):
    return [(k["AttributeName"], k["KeyType"]) for k in key_schema]


# --- DynamoDB's pricing rules, applied to low-level item images ({"attr": {"S": "..."}}) ---


def item_size(item):
    """Bytes DynamoDB bills for an item: attribute names plus values (UTF-8 strings, packed numbers)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value):
    (kind, text), = value.items()
    if kind == "S":
        return len(text.encode())
    if kind == "N":
        digits = text.lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    raise ValueError(f"item_size prices strings and numbers only, not {kind}")


def write_units(before, after):
    """Write request units of one write: ceil(larger of the item images / 1 KB), at least 1.

    A conditional write that fails is billed the same way on the existing item (``after`` = None).
    """
    return _units(max(item_size(before or {}), item_size(after or {})))


def score_update_units(after, added):
    """Units of an update that added ``added`` to a Scores item whose new image is ``after``.

    The same rules as :func:`write_units` plus :func:`index_write_units` on ScoresByRole, sizing the
    item once (the consumer prices every score it moves): a new item is one write and one index put;
    otherwise the score, the index's range key, changed: a write, an index delete and an index put.
    """
    size, score = item_size(after), int(after["score"]["N"])
    if score == added:
        return 2 * _units(size)
    before = size - _value_size(after["score"]) + _value_size({"N": str(score - added)})
    return max(_units(before), _units(size)) + _units(before) + _units(size)


def _units(size):
    return max(1, math.ceil(size / _KB))


def index_write_units(before, after, index_key=("role", "score")):
    """Write request units a base-table write costs in a projection-ALL index keyed on ``index_key``.

    A new entry is one put; a change of an index key attribute is a delete of the old entry plus a put
    of the new one; any other change of an indexed item is one update; an item absent from the index
    (an index key attribute missing) before and after costs nothing.
    """
    def indexed(item):
        return item is not None and all(a in item for a in index_key)

    if not indexed(before):
        return math.ceil(item_size(after) / _KB) if indexed(after) else 0
    if not indexed(after):
        return math.ceil(item_size(before) / _KB)
    if any(before[a] != after[a] for a in index_key):
        return math.ceil(item_size(before) / _KB) + math.ceil(item_size(after) / _KB)
    return math.ceil(item_size(after) / _KB) if before != after else 0
