"""The winner view's DynamoDB tables: their definitions and their creation.

Three tables, all on-demand (PAY_PER_REQUEST), each named ``prefix + <table>`` and announced to the
consumer and the API through an environment variable:

- ``TABLE_CONTRIBUTIONS_NAME`` (``contributions``): hash ``productId``; the product's ``merchant``,
  ``merchantName``, ``photographer``, ``photographerName`` (absent until known) and ``purchases``.
- ``TABLE_SCORES_NAME`` (``scores``): hash ``userId``, range ``role``; ``score`` and ``name``; global
  secondary index ``ScoresByRole`` (hash ``role``, range ``score``, projection ALL) for the top of a role.
- ``TABLE_REJECTS_NAME`` (``rejects``): hash ``eventId``; every record the consumer will never apply.

The consumer's retry bookkeeping rides on the Contributions and Scores items themselves (one
``seq@<shardId>`` attribute per shard, see :mod:`hello_winners.view.consumer`), so no further table is needed.

What a write to them costs (DynamoDB's pricing rules) is :mod:`hello_winners.view.capacity`.
"""

from botocore.exceptions import ClientError

from hello_winners.errors import DeployError

CONTRIBUTIONS = "TABLE_CONTRIBUTIONS_NAME"
SCORES = "TABLE_SCORES_NAME"
REJECTS = "TABLE_REJECTS_NAME"
SCORES_INDEX = "ScoresByRole"

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


def table_names(prefix: str) -> dict[str, str]:
    """The mapping of environment variable to table name for a prefix, without touching AWS."""
    return {env: prefix + suffix for env, (suffix, *_rest) in _TABLES.items()}


def keys(variable: str) -> tuple[str, ...]:
    """The key attribute names of a table (hash first), by its environment variable."""
    return tuple(name for name, _role in _TABLES[variable][1])


def create(dynamodb_client: object, prefix: str, tags: dict[str, str] | None = None) -> dict[str, str]:
    """Create every table the consumer and the API need, wait until active, return :func:`table_names`.

    Safe to call again: a table that already exists is kept when its keys are the expected ones, and
    a :class:`~hello_winners.errors.DeployError` says which table differs otherwise.

    Examples
    --------
    >>> env = create(boto3.client("dynamodb"), "hw-alice-")   # doctest: +SKIP
    >>> env["TABLE_SCORES_NAME"]                               # doctest: +SKIP
    'hw-alice-scores'
    """
    mapping = table_names(prefix)
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

