"""The embedded server's own changes to moto answer exactly as moto does."""

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from hello_winners.embedded import update_expressions

# What the consumer sends, and what could go wrong with a shared tree: nested paths, functions, several
# clauses, names and values by placeholder, and expressions moto refuses.
EXPRESSIONS = [
    "SET #s = if_not_exists(#s, :zero) + :n",
    "ADD #s :n",
    "SET #s = :n REMOVE #t",
    "SET #t = list_append(if_not_exists(#t, :empty), :list)",
    "SET #m.#s = :n",
    "SET #s = #s - :n",
    "REMOVE #t, #m.#s",
    "SET #s = :n, #s = :n",  # two paths overlap: refused
    "SET #s = ",  # a syntax error: refused
]
NAMES = {"#s": "score", "#t": "trail", "#m": "map"}


def answers(dynamodb, table, steps):
    """What DynamoDB answers to each UpdateItem of ``steps`` on a new ``table``, then the table's items."""
    dynamodb.create_table(TableName=table, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
    said = []
    for expression, n, key in steps:
        values = {":zero": {"N": "0"}, ":n": {"N": str(n)}, ":empty": {"L": []}, ":list": {"L": [{"N": str(n)}]}}
        used_names = {name: attribute for name, attribute in NAMES.items() if name in expression}
        used_values = {name: value for name, value in values.items() if name in expression}
        request = {"TableName": table, "Key": {"k": {"S": key}}, "UpdateExpression": expression,
                   "ReturnValues": "ALL_NEW", **({"ExpressionAttributeNames": used_names} if used_names else {}),
                   **({"ExpressionAttributeValues": used_values} if used_values else {})}
        try:
            said.append(dynamodb.update_item(**request).get("Attributes"))
        except ClientError as error:
            said.append(error.response["Error"])
    items = sorted(dynamodb.scan(TableName=table)["Items"], key=lambda item: item["k"]["S"])
    return said, items


@pytest.fixture(scope="module")
def dynamodb():
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(EXPRESSIONS), st.integers(-3, 3), st.sampled_from(["a", "b"])),
                min_size=1, max_size=10))
def test_parsing_each_update_expression_once_and_copying_it_from_a_pickle_changes_no_answer(dynamodb, steps):
    fresh = answers(dynamodb, "fresh", steps)
    undo = update_expressions.install()
    try:
        remembered = answers(dynamodb, "remembered", steps)
        remembered_again = answers(dynamodb, "again", steps)  # every tree already parsed, by the run above
    finally:
        undo()
        for table in ("fresh", "remembered", "again"):
            dynamodb.delete_table(TableName=table)
    assert remembered == fresh and remembered_again == fresh
