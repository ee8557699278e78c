"""The workshop's exercises: what a participant writes, the pieces the lessons give, and the rule.

The rule (lesson 0 says it too): an exercise cell keeps a function's signature and docstring and its
body ends with ``raise NotDoneYet("...")``. Running the cell *defines* the function; *calling* it
raises :class:`~hello_winners.errors.NotDoneYet` until the body is written. The check cell after it
(``checks.<name>(<name>)``) runs the function on cases, including the tricky ones, and prints what is
wrong with a hint, that it passed, or that it is not done yet. The reference solutions are in
:mod:`hello_winners.workshop.exercises.solutions`, one function per exercise, with the same names;
``%load -n hello_winners.workshop.exercises.solutions.<name>`` loads one into the cell.

The helpers below are given, not exercises: the lessons import them so that each exercise stays a
few lines about one idea.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from hello_winners.view import tables
from hello_winners.deploy import tagging, teardown
from hello_winners.errors import NotDoneYet
from hello_winners.events import ROLE_OF_KIND

__all__ = [
    "EXERCISES",
    "LISTINGS",
    "ROLES",
    "NotDoneYet",
    "add_to_score",
    "cancelled_by_condition",
    "product_item",
    "score_update",
    "tags_of",
]

#: The exercises of each lesson, in the order the lesson asks for them (solution and checker names).
EXERCISES = {
    1: ("put_event", "read_back"),
    2: ("decode_record", "validate_event", "record_contribution", "tally_purchase", "handle_batch"),
    3: ("build_zip", "consumer_policy", "create_role", "create_function", "connect_stream"),
    4: ("top_of_role", "scores_frame", "leaderboard_chart"),
    5: ("purchase_once", "handle_batch_once"),
    6: ("contributor_sales", "race_chart", "sales_per_category"),
    7: ("stage_leftovers",),
}

#: The role an event kind contributes: a create names the merchant, an image the photographer.
ROLES = ROLE_OF_KIND


def score_update(table_names: dict[str, str], user_id: str, role: str, name: str, amount: int) -> dict:
    """The UpdateItem parameters that add ``amount`` to a contributor's score (kept with their name).

    The same dict serves ``dynamodb.update_item(**update)`` and a ``TransactWriteItems`` ``Update``.
    """
    return {
        "TableName": table_names[tables.SCORES],
        "Key": {"userId": {"S": user_id}, "role": {"S": role}},
        "UpdateExpression": "ADD score :amount SET #name = if_not_exists(#name, :name)",
        "ExpressionAttributeNames": {"#name": "name"},
        "ExpressionAttributeValues": {":amount": {"N": str(amount)}, ":name": {"S": name}},
    }


def add_to_score(dynamodb: Any, table_names: dict[str, str], user_id: str, role: str, name: str,
                 amount: int) -> None:
    """Add ``amount`` sales to a contributor's score; nothing when it is 0 (only sellers have a score)."""
    if amount:
        dynamodb.update_item(**score_update(table_names, user_id, role, name, amount))


def product_item(dynamodb: Any, table_names: dict[str, str], product_id: str) -> dict:
    """A product's Contributions item as DynamoDB returns it ({} when the product is unknown yet)."""
    response = dynamodb.get_item(TableName=table_names[tables.CONTRIBUTIONS],
                                 Key={"productId": {"S": product_id}}, ConsistentRead=True)
    return response.get("Item", {})


def cancelled_by_condition(error: Exception) -> bool:
    """True when a TransactWriteItems was cancelled because its first item's condition failed."""
    reasons = error.response.get("CancellationReasons") or [{}]
    return reasons[0].get("Code") == "ConditionalCheckFailed"


#: How to list each kind of resource a stage leaves: (client, operation, the response's list, the name's
#: field in each entry, None when the entries are the names). Every one of these lists pages.
LISTINGS = {
    "stream": ("kinesis", "list_streams", "StreamNames", None),
    "table": ("dynamodb", "list_tables", "TableNames", None),
    "function": ("lambda", "list_functions", "Functions", "FunctionName"),
    "role": ("iam", "list_roles", "Roles", "RoleName"),
}


def tags_of(clients: dict[str, Any], kind: str, name: str) -> dict[str, str]:
    """The tags of one resource of a LISTINGS kind, as a dict: each service asks for them its own way.

    A resource your policy does not let you read (another stage's, whose name shares your prefix) has
    none for you: {}, as teardown reads it.
    """
    try:
        return _tags_of(clients, kind, name)
    except ClientError as error:
        if error.response["Error"]["Code"] in teardown.DENIED:
            return {}
        raise


def _tags_of(clients, kind, name):
    if kind == "stream":
        return tagging.stream_tags(clients["kinesis"], name)
    if kind == "table":
        arn = clients["dynamodb"].describe_table(TableName=name)["Table"]["TableArn"]
        return tagging.table_tags(clients["dynamodb"], arn)
    if kind == "function":
        arn = clients["lambda"].get_function_configuration(FunctionName=name)["FunctionArn"]
        return tagging.function_tags(clients["lambda"], arn)
    return tagging.role_tags(clients["iam"], name)
