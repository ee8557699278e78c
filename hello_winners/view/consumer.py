"""The winner-view consumer: a Kinesis-triggered Lambda that keeps exact sales tallies in DynamoDB.

Entry point ``hello_winners.view.consumer.handler`` for an event source mapping with
``FunctionResponseTypes=["ReportBatchItemFailures"]`` and ParallelizationFactor 1 (the default: one
batch of a shard at a time, which the per-shard markers below rely on). Environment:

- ``TABLE_CONTRIBUTIONS_NAME``: the Contributions table (per product: merchant, photographer, purchases).
- ``TABLE_SCORES_NAME``: the Scores table (per contributor and role: score, name).
- ``TABLE_REJECTS_NAME``: the Rejects table (every record that will never apply, with its reason).
- DynamoDB is reached with boto3's defaults (region, credentials, ``AWS_ENDPOINT_URL`` /
  ``AWS_ENDPOINT_URL_DYNAMODB``); the client is created once per process.

How a batch (one shard's records, in order) is applied, each step idempotent:

1. decode every record (:mod:`hello_winners.view.fold`); read the products' items (consistent reads);
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

This module orchestrates a batch; the requests are built by :mod:`hello_winners.view.requests` (pure),
sent through :mod:`hello_winners.view.calls` (retries, deadline, tallies) and priced by
:mod:`hello_winners.view.capacity`.
"""

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from hello_winners.errors import ConfigError
from hello_winners.view import capacity, requests, tables
from hello_winners.view.calls import MAX_ATTEMPTS, SAFETY_MS, TRANSIENT_ERRORS, Calls, GaveUp
from hello_winners.view.fold import Plan, ProductState, Record, decode_batch, fold, marker_attribute, seq_of
from hello_winners.view.requests import PAYLOAD_LIMIT

__all__ = ["MAX_ATTEMPTS", "PAYLOAD_LIMIT", "SAFETY_MS", "TRANSIENT_ERRORS", "handler", "process"]

_CONDITION_ROUNDS = 4  # a score whose marker keeps moving under us is failed after this many reads

_client = None


def handler(event: dict, context: object) -> dict:
    """Lambda entry point: apply one Kinesis batch, return ``{"batchItemFailures": [...]}``."""
    return process(event, _dynamodb(), _table_names(), context=context)


def _dynamodb():
    """One client per process, boto3's defaults; the consumer's own loop does the retrying.

    In Lambda, boto3 is imported and this client made in the function's init (the end of this module),
    as AWS advises: they are most of a cold start, and an environment initialised ahead of its first
    batch has paid them. Elsewhere (tests, notebooks) the client waits for first use, so importing the
    module needs no AWS configuration.
    """
    global _client
    if _client is None:
        _client = boto3.client("dynamodb", config=Config(retries={"total_max_attempts": 1}))
    return _client


def _table_names():
    missing = [env for env in (tables.CONTRIBUTIONS, tables.SCORES, tables.REJECTS) if not os.environ.get(env)]
    if missing:
        raise ConfigError(f"the consumer needs the environment variable(s) {', '.join(missing)}; "
                          "set them to the names returned by hello_winners.view.tables.create")
    return {env: os.environ[env] for env in (tables.CONTRIBUTIONS, tables.SCORES, tables.REJECTS)}


def process(event: dict, client: object, table_names: dict, context: object = None,
            sleep: Callable[[float], object] = time.sleep, log: Callable[[dict], object] | None = None) -> dict:
    """Apply a Lambda Kinesis event with ``client``; the handler without its process-wide state.

    ``table_names`` maps the ``TABLE_*_NAME`` variables to names; ``context`` (optional) bounds the
    retries by ``get_remaining_time_in_millis()``; ``sleep`` is injectable for tests; ``log`` receives
    the batch's log line as a dict (default: printed as one JSON line).
    """
    shard, records = decode_batch(event)
    calls = Calls(client, getattr(context, "get_remaining_time_in_millis", None), sleep)
    result = _apply(calls, table_names, shard, records) if records else _Result()
    failed_from = result.failed_from
    failures = [] if failed_from is None else [{"itemIdentifier": failed_from.sequence_number}]
    (log or _print_json)(_log_line(shard, records, result))
    return {"batchItemFailures": failures}


def _print_json(line):
    print(json.dumps(line, separators=(",", ":")), flush=True)


@dataclass(frozen=True)
class _Result:
    """What applying a batch did: the fold's plan (None if the reads failed), the first record Lambda
    must deliver again (None if all is done), and the tallies of the log line."""

    plan: Plan | None = None
    failed_from: Record | None = None
    write_units: int = 0
    conditional_failures: int = 0
    consumed: float = 0.0
    calls: int = 0
    retries: int = 0


def _log_line(shard, records, result):
    plan, failed_from = result.plan, result.failed_from
    return {
        "message": "winner-view batch",
        "shardId": shard,
        "records": len(records),
        "applied": plan.applied if plan else 0,
        "rejected": len(plan.rejects) if plan else 0,
        "duplicatesSkipped": plan.duplicates if plan else 0,
        "ignored": plan.ignored if plan else 0,
        "failed": sum(r.seq >= failed_from.seq for r in records) if failed_from else 0,
        "retryFrom": failed_from.sequence_number if failed_from else None,
        "writeUnits": result.write_units,
        "conditionalFailures": result.conditional_failures,
        "consumedCapacity": result.consumed,
        "calls": result.calls,
        "retries": result.retries,
    }


# --- one batch ---------------------------------------------------------------------------------

def _apply(calls, table_names, shard, records):
    """Read the products, fold, write rejects, then scores, then products; the batch's :class:`_Result`."""
    batch = _Writes(calls, table_names, shard)
    products = {r.product for r in records if r.product is not None}
    try:
        items = batch.read_products(products)
    except GaveUp:
        return batch.result(None, records[0])
    plan = fold(records, {p: _state(item, batch.marker) for p, item in items.items()})
    failed_products, failed = set(), []
    for record in batch.write_rejects(plan.rejects):
        if record.product in plan.products:
            failed_products.add(record.product)
        else:
            failed.append(record)
    for key, move in plan.scores.items():
        if not batch.write_score(key, move):
            failed_products.update(c[2] for c in move.contributions)
    for product, update in plan.products.items():
        written = product in failed_products or not update.changes or batch.write_product(
            product, update, items.get(product))
        if not written:
            failed_products.add(product)
    failed.extend(plan.products[p].first for p in failed_products)
    return batch.result(plan, min(failed, key=lambda r: r.seq, default=None))


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


class _Writes:
    """One batch's reads and writes through :class:`Calls`, tallying the write units they cost."""

    def __init__(self, calls, table_names, shard):
        self.calls = calls
        self.contributions = table_names[tables.CONTRIBUTIONS]
        self.scores = table_names[tables.SCORES]
        self.rejects = table_names[tables.REJECTS]
        self.shard = shard
        self.marker = marker_attribute(shard)
        self.units = self.conditional_failures = 0

    def result(self, plan, failed_from):
        calls = self.calls
        return _Result(plan, failed_from, self.units, self.conditional_failures, calls.consumed, calls.calls,
                       calls.retries)

    def read_products(self, products):
        """Full Contributions items of the products (consistent), keyed by productId."""
        items = {}
        for pending in requests.product_reads(self.contributions, products):
            attempt = 0
            while pending:
                response = self.calls.call("batch_get_item", RequestItems=pending, ReturnConsumedCapacity="TOTAL")
                for item in response.get("Responses", {}).get(self.contributions, []):
                    items[item["productId"]["S"]] = item
                pending = response.get("UnprocessedKeys") or {}
                attempt = self.calls.backoff(attempt) if pending else attempt
        return items

    def write_rejects(self, rejects):
        """Put every reject (idempotent by eventId); the records whose put did not land."""
        now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        failed = []
        for start in range(0, len(rejects), requests.BATCH_WRITE_LIMIT):
            chunk = {r.event_id: r for r in rejects[start:start + requests.BATCH_WRITE_LIMIT]}
            pending = {self.rejects: [requests.reject_put(r, self.shard, now) for r in chunk.values()]}
            attempt = 0
            try:
                while pending:
                    sent = pending[self.rejects]
                    response = self.calls.call("batch_write_item", RequestItems=pending,
                                               ReturnConsumedCapacity="TOTAL")
                    pending = response.get("UnprocessedItems") or {}
                    left = {_event_id(q) for q in pending.get(self.rejects, [])}
                    self.units += sum(capacity.write_units(None, q["PutRequest"]["Item"]) for q in sent
                                      if _event_id(q) not in left)
                    attempt = self.calls.backoff(attempt) if pending else attempt
            except GaveUp:
                left = {_event_id(q) for q in pending.get(self.rejects, [])}
                failed.extend(r for event_id, r in chunk.items() if event_id in left)
        return failed

    def write_score(self, key, move):
        """Add a contributor's contributions once, whatever landed before; False if it did not land."""
        request = requests.score_update(self.scores, key, move, self.marker)
        for _round in range(_CONDITION_ROUNDS):
            try:
                after = self.calls.call("update_item", **request)["Attributes"]
            except ClientError as error:
                old = self._conditional_failure(error, self.scores, request["Key"])
                if old is None:
                    return False
                request = requests.score_retry(request, old, move, self.marker)
                if request is None:  # every contribution had landed
                    return True
                continue
            except GaveUp:
                return False
            self.units += capacity.score_update_units(after, requests.added(request))
            return True
        return False

    def write_product(self, product, update, before_item):
        """Apply a product's update if its marker is still the one read; False if it did not land."""
        request = requests.product_update(self.contributions, product, update, self.marker)
        try:
            after = self.calls.call("update_item", **request)["Attributes"]
        except ClientError as error:
            old = self._conditional_failure(error, self.contributions, request["Key"])
            # Our own earlier attempt landed (a 5xx after the write): done. Anything else was stale.
            return old is not None and self.marker in old and seq_of(old[self.marker]["S"]) >= update.last_seq
        except GaveUp:
            return False
        self.units += capacity.write_units(before_item, after)
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
                response = self.calls.call("get_item", TableName=table, Key=key, ConsistentRead=True,
                                           ReturnConsumedCapacity="TOTAL")
                old = response.get("Item") or {}
            except GaveUp:
                return None
        self.units += capacity.write_units(old, None)
        return old


def _event_id(put_request):
    return put_request["PutRequest"]["Item"]["eventId"]["S"]


if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # set by Lambda (and the kit's local runtime) only
    _dynamodb()
