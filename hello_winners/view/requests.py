"""The consumer's DynamoDB requests, built as plain dicts by pure functions: no client, no I/O.

Kept apart from the calls so each request's shape (keys, conditions, markers) can be read and tested
on its own: the conditions are what makes a retried batch exact, see :mod:`hello_winners.view.consumer`.
A builder never changes a request it was given; a retry is a new request.
"""

import base64
from collections.abc import Iterable

from hello_winners.events import MERCHANT, PHOTOGRAPHER
from hello_winners.view.fold import ProductUpdate, Record, ScoreMove, seq_key, seq_of

__all__ = [
    "BATCH_GET_LIMIT",
    "BATCH_WRITE_LIMIT",
    "PAYLOAD_LIMIT",
    "added",
    "product_reads",
    "product_update",
    "reject_put",
    "score_retry",
    "score_update",
]

PAYLOAD_LIMIT = 8 * 1024  # bytes of a rejected record kept in the Rejects table
BATCH_GET_LIMIT = 100  # keys per BatchGetItem call
BATCH_WRITE_LIMIT = 25  # requests per BatchWriteItem call


def product_reads(table: str, products: Iterable[str]) -> list[dict]:
    """BatchGetItem ``RequestItems``, one per call, reading the products' full items consistently."""
    keys = [{"productId": {"S": p}} for p in products]
    return [{table: {"Keys": keys[start:start + BATCH_GET_LIMIT], "ConsistentRead": True}}
            for start in range(0, len(keys), BATCH_GET_LIMIT)]


def reject_put(record: Record, shard: str, now: str) -> dict:
    """The BatchWriteItem PutRequest of a rejected record (keyed by its eventId), rejected at ``now``."""
    text, encoding = _payload_text(record.payload)
    return {"PutRequest": {"Item": {
        "eventId": {"S": record.event_id},
        "reason": {"S": record.reason},
        "payload": {"S": text},
        "payloadEncoding": {"S": encoding},
        "shardId": {"S": shard},
        "sequenceNumber": {"S": record.sequence_number},
        "rejectedAt": {"S": now},
    }}}


def score_update(table: str, key: tuple, move: ScoreMove, marker: str) -> dict:
    """UpdateItem adding a (userId, role)'s contributions, moving its ``marker`` to the last one.

    Conditioned on the marker being absent or below the first contribution, so it lands once.
    """
    user, role = key
    contributions = move.contributions
    return {
        "TableName": table,
        "Key": {"userId": {"S": user}, "role": {"S": role}},
        "UpdateExpression": "ADD score :d SET #n = if_not_exists(#n, :n), #m = :hi",
        "ConditionExpression": "attribute_not_exists(#m) OR #m < :lo",
        "ExpressionAttributeNames": {"#n": "name", "#m": marker},
        "ExpressionAttributeValues": {
            ":d": {"N": str(move.total)}, ":n": {"S": move.name},
            ":hi": {"S": seq_key(contributions[-1][0])}, ":lo": {"S": seq_key(contributions[0][0])},
        },
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        "ReturnConsumedCapacity": "TOTAL",
    }


def score_retry(request: dict, old: dict, move: ScoreMove, marker: str) -> dict | None:
    """A new score request after ``request``'s condition failed on the item ``old``; None if all landed.

    Adds only the contributions above the marker stored on ``old`` (a retry of a batch that got part
    way), on condition that the marker is still that one (or still absent). ``request`` is unchanged.
    """
    landed = seq_of(old[marker]["S"]) if marker in old else None
    rest = sum(amount for seq, amount, _product in move.contributions if landed is None or seq > landed)
    if rest == 0:
        return None
    values = {**request["ExpressionAttributeValues"], ":d": {"N": str(rest)}}
    values.pop(":lo", None)
    if marker in old:
        condition, values[":old"] = "#m = :old", old[marker]
    else:
        condition = "attribute_not_exists(#m)"
        values.pop(":old", None)
    return {**request, "ConditionExpression": condition, "ExpressionAttributeValues": values}


def added(request: dict) -> int:
    """The amount a score request adds to the score."""
    return int(request["ExpressionAttributeValues"][":d"]["N"])


def product_update(table: str, product: str, update: ProductUpdate, marker: str) -> dict:
    """UpdateItem applying a product's update, conditioned on its ``marker`` being the one read."""
    names, values, sets = {"#m": marker}, {":p": {"N": str(update.purchases)}}, ["#m = :new"]
    values[":new"] = {"S": seq_key(update.last_seq)}
    for role, who in ((MERCHANT, update.merchant), (PHOTOGRAPHER, update.photographer)):
        if who:
            sets.append(f"{role} = :{role}, {role}Name = :{role}Name")
            values[f":{role}"], values[f":{role}Name"] = {"S": who[0]}, {"S": who[1]}
    old_key = update.before.marker_key
    if old_key is None:
        condition = "attribute_not_exists(#m)"
    else:
        condition, values[":old"] = "#m = :old", {"S": old_key}
    return {
        "TableName": table,
        "Key": {"productId": {"S": product}},
        "UpdateExpression": f"SET {', '.join(sets)} ADD purchases :p",
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        "ReturnConsumedCapacity": "TOTAL",
    }


def _payload_text(payload):
    """(text, "utf-8" | "base64") of a rejected record's data, cut to PAYLOAD_LIMIT bytes with a marker."""
    if isinstance(payload, str):  # the record's data was not even base64: keep the text itself
        payload = payload.encode(errors="replace")
    try:
        payload.decode()
    except UnicodeDecodeError:
        kept = payload[:PAYLOAD_LIMIT]
        text, encoding, size = base64.b64encode(kept).decode(), "base64", len(kept)
    else:  # a character the cut would split is left out whole, and counted as cut
        text = payload[:PAYLOAD_LIMIT].decode(errors="ignore")
        encoding, size = "utf-8", len(text.encode())
    cut = len(payload) - size
    return (f"{text}...[truncated {cut} bytes]" if cut else text), encoding
