"""The winner-view consumer: a Kinesis-triggered Lambda that keeps exact sales tallies in DynamoDB.

Entry point ``hello_winners.consumer.handler`` for an event source mapping with
``FunctionResponseTypes=["ReportBatchItemFailures"]`` and ParallelizationFactor 1 (the default: one
batch of a shard at a time, which the per-shard markers below rely on). Environment:

- ``TABLE_CONTRIBUTIONS_NAME``: the Contributions table (per product: merchant, photographer, purchases).
- ``TABLE_SCORES_NAME``: the Scores table (per contributor and role: score, name).
- ``TABLE_REJECTS_NAME``: the Rejects table (every record that will never apply, with its reason).
- DynamoDB is reached with boto3's defaults (region, credentials, ``AWS_ENDPOINT_URL`` /
  ``AWS_ENDPOINT_URL_DYNAMODB``); the client is created once per process.

How a batch (one shard's records, in order) is applied, each step idempotent:

1. decode every record (:mod:`hello_winners.fold`); read the products' items (consistent reads);
2. fold: skip records at or below their product's ``seq@<shardId>`` marker (applied before), plan one
   update per product and one score update per (contributor, role) that moves;
3. write the rejects (keyed by eventID), then the scores, then the products. A score update adds its
   contributions and moves the score item's own ``seq@<shardId>`` marker to the last one, on
   condition that the marker is below the first one; if the condition fails (a retry of a batch that
   got part way), only the contributions above the stored marker are added. A product update is
   conditioned on its marker being the one read. Scores go before products, so a record at or below
   its product's marker is fully applied, and for the others the score markers tell what landed.

Transient DynamoDB errors are retried with backoff while the invocation has time left; a product
whose writes still fail is reported in ``batchItemFailures`` from its first unapplied record (the
lowest such sequence number is returned), so Lambda restarts there and the markers skip what landed.
One JSON log line per batch goes to stdout (CloudWatch).
"""

import base64
import json
import os
import random
import time
from datetime import datetime, timezone

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from hello_winners import tables
from hello_winners.errors import ConfigError
from hello_winners.fold import (
    MERCHANT,
    ProductState,
    decode_batch,
    fold,
    seq_key,
    seq_of,
)

__all__ = ["PAYLOAD_LIMIT", "TRANSIENT_ERRORS", "handler", "process"]

TRANSIENT_ERRORS = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable", "TransactionConflictException", "TransactionConflict",
    "LimitExceededException",
})
PAYLOAD_LIMIT = 8 * 1024  # bytes of a rejected record kept in the Rejects table
SAFETY_MS = 2000  # time kept in reserve: never sleep or write into the last two seconds
MAX_ATTEMPTS = 8
_BASE_DELAY, _MAX_DELAY = 0.05, 2.0
_CONDITION_ROUNDS = 4  # a score whose marker keeps moving under us is failed after this many reads

_client = None


def handler(event, context):
    """Lambda entry point: apply one Kinesis batch, return ``{"batchItemFailures": [...]}``."""
    return process(event, _dynamodb(), _table_names(), context=context)


def _dynamodb():
    """One client per process, boto3's defaults; the consumer's own loop does the retrying."""
    global _client
    if _client is None:
        import boto3
        from botocore.config import Config

        _client = boto3.client("dynamodb", config=Config(retries={"total_max_attempts": 1}))
    return _client


def _table_names():
    missing = [env for env in (tables.CONTRIBUTIONS, tables.SCORES, tables.REJECTS) if not os.environ.get(env)]
    if missing:
        raise ConfigError(f"the consumer needs the environment variable(s) {', '.join(missing)}; "
                          "set them to the names returned by hello_winners.tables.create")
    return {env: os.environ[env] for env in (tables.CONTRIBUTIONS, tables.SCORES, tables.REJECTS)}


def process(event, client, table_names, context=None, sleep=time.sleep, log=None):
    """Apply a Lambda Kinesis event with ``client``; the handler without its process-wide state.

    ``table_names`` maps the ``TABLE_*_NAME`` variables to names; ``context`` (optional) bounds the
    retries by ``get_remaining_time_in_millis()``; ``sleep`` is injectable for tests; ``log`` receives
    the batch's log line as a dict (default: printed as one JSON line).
    """
    shard, records = decode_batch(event)
    batch = _Batch(client, table_names, shard, context, sleep)
    failed_from = batch.apply(records) if records else None
    failures = [] if failed_from is None else [{"itemIdentifier": failed_from.sequence_number}]
    line = batch.log_line(records, failed_from)
    (log or _print_json)(line)
    return {"batchItemFailures": failures}


def _print_json(line):
    print(json.dumps(line, separators=(",", ":")), flush=True)


class _GaveUp(Exception):
    """A call still failed after every retry the invocation had time for."""


class _Batch:
    """The I/O of one batch: reads, the three kinds of writes, retries and the tallies they cost."""

    def __init__(self, client, table_names, shard, context, sleep):
        self.client = client
        self.contributions = table_names[tables.CONTRIBUTIONS]
        self.scores = table_names[tables.SCORES]
        self.rejects = table_names[tables.REJECTS]
        self.shard = shard
        self.marker = f"seq@{shard}"
        self.remaining = getattr(context, "get_remaining_time_in_millis", None)
        self.sleep = sleep
        self.plan = None
        self.units = self.conditional_failures = self.retries = self.calls = 0
        self.consumed = 0.0

    # --- the batch ---------------------------------------------------------------------------

    def apply(self, records):
        """Apply the records; the first record Lambda must deliver again, or None if all is done."""
        products = {r.product for r in records if r.product is not None}
        try:
            items = self._read_products(products)
        except _GaveUp:
            self.plan = None
            return records[0]
        states = {p: _state(item, self.marker) for p, item in items.items()}
        plan = self.plan = fold(records, states)
        failed_products, failed = set(), []
        for record in self._write_rejects(plan.rejects):
            if record.product in plan.products:
                failed_products.add(record.product)
            else:
                failed.append(record)
        for key, move in plan.scores.items():
            if not self._write_score(key, move):
                failed_products.update(c[2] for c in move.contributions)
        for product, update in plan.products.items():
            written = product in failed_products or not update.changes or self._write_product(
                product, update, items.get(product))
            if not written:
                failed_products.add(product)
        failed.extend(plan.products[p].first for p in failed_products)
        return min(failed, key=lambda r: r.seq, default=None)

    def log_line(self, records, failed_from):
        plan = self.plan
        return {
            "message": "winner-view batch",
            "shardId": self.shard,
            "records": len(records),
            "applied": plan.applied if plan else 0,
            "rejected": len(plan.rejects) if plan else 0,
            "duplicatesSkipped": plan.duplicates if plan else 0,
            "ignored": plan.ignored if plan else 0,
            "failed": sum(r.seq >= failed_from.seq for r in records) if failed_from else 0,
            "retryFrom": failed_from.sequence_number if failed_from else None,
            "writeUnits": self.units,
            "conditionalFailures": self.conditional_failures,
            "consumedCapacity": self.consumed,
            "calls": self.calls,
            "retries": self.retries,
        }

    # --- reads -------------------------------------------------------------------------------

    def _read_products(self, products):
        """Full Contributions items of the products (consistent), keyed by productId."""
        items, keys = {}, [{"productId": {"S": p}} for p in products]
        for start in range(0, len(keys), 100):
            pending = {self.contributions: {"Keys": keys[start:start + 100], "ConsistentRead": True}}
            attempt = 0
            while pending:
                response = self._call("batch_get_item", RequestItems=pending, ReturnConsumedCapacity="TOTAL")
                for item in response.get("Responses", {}).get(self.contributions, []):
                    items[item["productId"]["S"]] = item
                pending = response.get("UnprocessedKeys") or {}
                attempt = self._backoff(attempt) if pending else attempt
        return items

    def _get(self, table, key):
        response = self._call("get_item", TableName=table, Key=key, ConsistentRead=True,
                              ReturnConsumedCapacity="TOTAL")
        return response.get("Item") or {}

    # --- writes ------------------------------------------------------------------------------

    def _write_rejects(self, rejects):
        """Put every reject (idempotent by eventId); the records whose put did not land."""
        now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        failed = []
        for start in range(0, len(rejects), 25):
            chunk = {r.event_id: r for r in rejects[start:start + 25]}
            pending = {self.rejects: [{"PutRequest": {"Item": self._reject_item(r, now)}} for r in chunk.values()]}
            attempt = 0
            try:
                while pending:
                    sent = pending[self.rejects]
                    response = self._call("batch_write_item", RequestItems=pending, ReturnConsumedCapacity="TOTAL")
                    pending = response.get("UnprocessedItems") or {}
                    left = {q["PutRequest"]["Item"]["eventId"]["S"] for q in pending.get(self.rejects, [])}
                    self.units += sum(tables.write_units(None, q["PutRequest"]["Item"]) for q in sent
                                      if q["PutRequest"]["Item"]["eventId"]["S"] not in left)
                    attempt = self._backoff(attempt) if pending else attempt
            except _GaveUp:
                left = {q["PutRequest"]["Item"]["eventId"]["S"] for q in pending.get(self.rejects, [])}
                failed.extend(r for event_id, r in chunk.items() if event_id in left)
        return failed

    def _reject_item(self, record, now):
        text, encoding = _payload_text(record.payload)
        return {
            "eventId": {"S": record.event_id},
            "reason": {"S": record.reason},
            "payload": {"S": text},
            "payloadEncoding": {"S": encoding},
            "shardId": {"S": self.shard},
            "sequenceNumber": {"S": record.sequence_number},
            "rejectedAt": {"S": now},
        }

    def _write_score(self, key, move):
        """Add a contributor's contributions once, whatever landed before; False if it did not land."""
        user, role = key
        contributions = move.contributions
        request = {
            "TableName": self.scores,
            "Key": {"userId": {"S": user}, "role": {"S": role}},
            "UpdateExpression": "ADD score :d SET #n = if_not_exists(#n, :n), #m = :hi",
            "ConditionExpression": "attribute_not_exists(#m) OR #m < :lo",
            "ExpressionAttributeNames": {"#n": "name", "#m": self.marker},
            "ExpressionAttributeValues": {
                ":d": {"N": str(move.total)}, ":n": {"S": move.name},
                ":hi": {"S": seq_key(contributions[-1][0])}, ":lo": {"S": seq_key(contributions[0][0])},
            },
            "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            "ReturnConsumedCapacity": "TOTAL",
        }
        for _round in range(_CONDITION_ROUNDS):
            try:
                after = self._call("update_item", **request)["Attributes"]
            except ClientError as error:
                old = self._conditional_failure(error, self.scores, request["Key"])
                if old is None:
                    return False
                landed = seq_of(old[self.marker]["S"]) if self.marker in old else None
                rest = sum(a for seq, a, _p in contributions if landed is None or seq > landed)
                if rest == 0:
                    return True
                values = request["ExpressionAttributeValues"]
                values[":d"] = {"N": str(rest)}
                values.pop(":lo", None)
                if self.marker in old:
                    request["ConditionExpression"] = "#m = :old"
                    values[":old"] = old[self.marker]
                else:
                    request["ConditionExpression"] = "attribute_not_exists(#m)"
                    values.pop(":old", None)
                continue
            except _GaveUp:
                return False
            self.units += tables.score_update_units(after, int(request["ExpressionAttributeValues"][":d"]["N"]))
            return True
        return False

    def _write_product(self, product, update, before_item):
        """Apply a product's update if its marker is still the one read; False if it did not land."""
        names, values, sets = {"#m": self.marker}, {":p": {"N": str(update.purchases)}}, ["#m = :new"]
        values[":new"] = {"S": seq_key(update.last_seq)}
        for role, who in ((MERCHANT, update.merchant), ("photographer", update.photographer)):
            if who:
                sets.append(f"{role} = :{role}, {role}Name = :{role}Name")
                values[f":{role}"], values[f":{role}Name"] = {"S": who[0]}, {"S": who[1]}
        old_key = update.before.marker_key
        if old_key is None:
            condition = "attribute_not_exists(#m)"
        else:
            condition, values[":old"] = "#m = :old", {"S": old_key}
        request = {
            "TableName": self.contributions,
            "Key": {"productId": {"S": product}},
            "UpdateExpression": f"SET {', '.join(sets)} ADD purchases :p",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            "ReturnConsumedCapacity": "TOTAL",
        }
        try:
            after = self._call("update_item", **request)["Attributes"]
        except ClientError as error:
            old = self._conditional_failure(error, self.contributions, request["Key"])
            # Our own earlier attempt landed (a 5xx after the write): done. Anything else was stale.
            return old is not None and self.marker in old and seq_of(old[self.marker]["S"]) >= update.last_seq
        except _GaveUp:
            return False
        self.units += tables.write_units(before_item, after)
        return True

    def _conditional_failure(self, error, table, key):
        """The item a failed condition saw, None if it cannot be read; re-raises any other error.

        DynamoDB bills a failed conditional write like a write of the existing item.
        """
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise error
        self.conditional_failures += 1
        old = error.response.get("Item")
        if old is None:
            try:
                old = self._get(table, key)
            except _GaveUp:
                return None
        self.units += tables.write_units(old, None)
        return old

    # --- calls, retries, time ----------------------------------------------------------------

    def _call(self, method, **request):
        """One DynamoDB call, retried on transient errors while time allows; else _GaveUp."""
        attempt = 0
        while True:
            if not self._time_left(0):
                raise _GaveUp(f"{method}: no time left")
            self.calls += 1
            try:
                response = getattr(self.client, method)(**request)
            except ClientError as error:
                if not _transient(error):
                    raise
                attempt = self._backoff(attempt, error)
                continue
            except (BotoConnectionError, HTTPClientError) as error:
                attempt = self._backoff(attempt, error)
                continue
            self._count_consumed(response.get("ConsumedCapacity"))
            return response

    def _backoff(self, attempt, error=None):
        """Sleep before the next attempt (full jitter), or give up when attempts or time run out."""
        delay = random.uniform(0, min(_MAX_DELAY, _BASE_DELAY * 2 ** attempt))
        if attempt + 1 >= MAX_ATTEMPTS or not self._time_left(delay):
            raise _GaveUp(str(error or "unprocessed items remain")) from error
        self.retries += 1
        self.sleep(delay)
        return attempt + 1

    def _time_left(self, seconds):
        return self.remaining is None or self.remaining() - seconds * 1000 > SAFETY_MS

    def _count_consumed(self, consumed):
        for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            self.consumed += entry.get("CapacityUnits", 0.0)


def _transient(error):
    response = error.response
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    return response["Error"]["Code"] in TRANSIENT_ERRORS or status >= 500


def _state(item, marker):
    """A Contributions item as the fold's :class:`ProductState` for this shard's marker."""
    def text(name):
        return item[name]["S"] if name in item else None

    return ProductState(
        merchant=text("merchant"), merchant_name=text("merchantName"),
        photographer=text("photographer"), photographer_name=text("photographerName"),
        purchases=int(item["purchases"]["N"]) if "purchases" in item else 0,
        marker_key=text(marker),
    )


def _payload_text(payload):
    """(text, "utf-8" | "base64") of a rejected record's data, cut to PAYLOAD_LIMIT bytes with a marker."""
    if isinstance(payload, str):  # the record's data was not even base64: keep the text itself
        payload, encoding = payload.encode("utf-8", "replace"), "utf-8"
    else:
        try:
            payload.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "base64"
    cut = len(payload) - PAYLOAD_LIMIT
    kept = payload[:PAYLOAD_LIMIT] if cut > 0 else payload
    text = kept.decode("utf-8", "ignore") if encoding == "utf-8" else base64.b64encode(kept).decode("ascii")
    return (text + f"...[truncated {cut} bytes]" if cut > 0 else text), encoding
