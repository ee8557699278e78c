"""Stand-ins for the lessons, the checkers, the tests and the benchmarks: delivery as Lambda does it,
a throttling client, and an in-memory DynamoDB.

``deliver`` replays batches with the event source mapping's retry rule; ``redelivered`` repeats some of
them as at-least-once delivery does; :class:`FailingOnce` wraps a real client and throttles one call;
:class:`MemoryDynamoDB` answers the consumer's calls instantly, in memory (the benchmark's stand-in,
checked against moto by the consumer's property tests).
"""

from __future__ import annotations

import random
import re
from typing import Any, Callable, Iterable

from botocore.exceptions import ClientError

from hello_winners.errors import ConfigError
from hello_winners.view import tables
from hello_winners.view.delivery import retry_position

__all__ = ["FailingOnce", "MemoryDynamoDB", "deliver", "redelivered"]


def redelivered(batches: Iterable[dict], share: float = 0.3, seed: int = 5) -> list[dict]:
    """At-least-once delivery: about ``share`` of the batches come twice (a retry after a timeout whose
    first attempt had in fact finished), seeded so the replay is the same every time."""
    rng = random.Random(seed)
    out = []
    for batch in batches:
        out.append(batch)
        if rng.random() < share:
            out.append(batch)
    return out


def deliver(batches: Iterable[dict], handler: Callable[[dict, Any, dict], dict | None], dynamodb: Any,
            table_names: dict, max_attempts: int = 10) -> int:
    """Run ``handler(batch, dynamodb, table_names)`` on each batch as Lambda's event source mapping
    would with ReportBatchItemFailures: a reported record and those after it are delivered again
    (:func:`hello_winners.view.delivery.retry_position`).

    Returns the number of retries.
    """
    retries = 0
    for batch in batches:
        pending = batch["Records"]
        for _attempt in range(max_attempts):
            position = retry_position([r["kinesis"]["sequenceNumber"] for r in pending],
                                      handler({"Records": pending}, dynamodb, table_names) or {})
            if position is None:
                break
            retries += 1
            pending = pending[position:]
        else:
            raise ConfigError(f"a batch still failed after {max_attempts} attempts: look at the handler's error")
    return retries


class FailingOnce:
    """A DynamoDB client whose ``nth`` call of ``method`` is throttled once, as a busy table would."""

    def __init__(self, client: Any, method: str = "transact_write_items", nth: int = 3) -> None:
        self._client, self._method, self._left = client, method, nth
        self.throttled = 0

    def __getattr__(self, name):
        attribute = getattr(self._client, name)
        if name != self._method:
            return attribute

        def call(**params):
            self._left -= 1
            if self._left == 0:
                self.throttled += 1
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException",
                                             "Message": "Rate exceeded (throttled on purpose, for the lesson)"}}, name)
            return attribute(**params)
        return call


class MemoryDynamoDB:
    """The subset of the low-level DynamoDB client the consumer uses, in memory, answering instantly.

    It implements exactly the expression forms the consumer sends (SET with ``if_not_exists``, ADD,
    conditions joined by OR of ``attribute_not_exists`` and comparisons), ReturnValues ALL_NEW and
    ReturnValuesOnConditionCheckFailure ALL_OLD; the consumer's property tests check it against moto
    on the same scenarios.
    """

    def __init__(self, names: dict[str, str]) -> None:
        self.keys = {name: tables.keys(variable) for variable, name in names.items()}
        self.tables = {name: {} for name in self.keys}

    def _key(self, table, item):
        return tuple(item[a]["S"] for a in self.keys[table])

    def batch_get_item(self, RequestItems: dict, **_options: Any) -> dict:
        return {"Responses": {table: [dict(self.tables[table][self._key(table, key)]) for key in request["Keys"]
                                      if self._key(table, key) in self.tables[table]]
                              for table, request in RequestItems.items()},
                "UnprocessedKeys": {}}

    def get_item(self, TableName: str, Key: dict, **_options: Any) -> dict:
        item = self.tables[TableName].get(self._key(TableName, Key))
        return {"Item": dict(item)} if item is not None else {}

    def batch_write_item(self, RequestItems: dict, **_options: Any) -> dict:
        for table, requests in RequestItems.items():
            for request in requests:
                item = request["PutRequest"]["Item"]
                self.tables[table][self._key(table, item)] = dict(item)
        return {"UnprocessedItems": {}}

    def update_item(self, TableName: str, Key: dict, UpdateExpression: str, ExpressionAttributeValues: dict,
                    ConditionExpression: str | None = None, ExpressionAttributeNames: dict | None = None,
                    ReturnValues: str = "NONE", ReturnValuesOnConditionCheckFailure: str = "NONE",
                    **_options: Any) -> dict:
        key = self._key(TableName, Key)
        old = self.tables[TableName].get(key)
        names, values = ExpressionAttributeNames or {}, ExpressionAttributeValues
        if ConditionExpression and not _condition(ConditionExpression, old or {}, names, values):
            response = {"Error": {"Code": "ConditionalCheckFailedException", "Message": "The conditional request failed"},
                        "ResponseMetadata": {"HTTPStatusCode": 400}}
            if ReturnValuesOnConditionCheckFailure == "ALL_OLD" and old is not None:
                response["Item"] = dict(old)
            raise ClientError(response, "UpdateItem")
        new = _updated(old or dict(Key), UpdateExpression, names, values)
        self.tables[TableName][key] = new
        return {"Attributes": dict(new)} if ReturnValues == "ALL_NEW" else {}

    def scan(self, TableName: str, **_options: Any) -> dict:
        return {"Items": [dict(item) for item in self.tables[TableName].values()]}


_CLAUSE = re.compile(r"\b(SET|ADD)\s+(.*?)(?=\s+\b(?:SET|ADD)\s|$)")
_TOP_COMMA = re.compile(r",\s*(?![^()]*\))")


def _updated(old, expression, names, values):
    """The item after an update expression; every operand reads the item as it was (as DynamoDB does)."""
    new = dict(old)
    for clause, body in _CLAUSE.findall(expression):
        for part in _TOP_COMMA.split(body.strip()):
            if clause == "SET":
                path, operand = (s.strip() for s in part.split("=", 1))
                new[names.get(path, path)] = _operand(operand, old, names, values)
            else:
                path, value = part.split()
                attribute = names.get(path, path)
                total = int(old[attribute]["N"]) if attribute in old else 0
                new[attribute] = {"N": str(total + int(values[value]["N"]))}
    return new


def _operand(text, item, names, values):
    found = re.fullmatch(r"if_not_exists\(\s*(\S+)\s*,\s*(\S+)\s*\)", text)
    if found:
        attribute = names.get(found[1], found[1])
        return item[attribute] if attribute in item else values[found[2]]
    return values[text]


def _condition(expression, item, names, values):
    """OR of terms: attribute_not_exists(path) or ``path op :value`` with op in = < <= > >=."""
    for term in expression.split(" OR "):
        term = term.strip()
        found = re.fullmatch(r"attribute_not_exists\((\S+)\)", term)
        if found:
            if names.get(found[1], found[1]) not in item:
                return True
            continue
        path, op, value = term.split()
        attribute = names.get(path, path)
        if attribute in item and _compare(op, item[attribute], values[value]):
            return True
    return False


def _compare(op, left, right):
    ((kind, a),), ((other, b),) = left.items(), right.items()
    if kind != other:
        return False
    if kind == "N":
        a, b = int(a), int(b)
    return {"=": a == b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
