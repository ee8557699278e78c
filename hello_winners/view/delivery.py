"""Events as Lambda's event source mapping delivers them: Kinesis records, per-shard batches, retries.

For everything that hands the consumer a batch without a stream (the local runtime's pollers, the
lessons, the checkers, the tests and the benchmarks), and the one definition of where the mapping
restarts a batch whose function reported failed records.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence

from hello_winners import events

# What a Kinesis sequence number looks like: 56 digits, rising within a shard.
FIRST_SEQUENCE_NUMBER = 49590338271490256608559692538361571095921575989136588898
_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
_ROLE = "arn:aws:iam::000000000000:role/consumer"


def kinesis_record(shard_id: str, seq: int, data: bytes, partition_key: str = "p", arn: str = _ARN,
                   arrival: float = 1700000000.0, role_arn: str = _ROLE, region: str = "us-east-1") -> dict:
    """One item of a Lambda Kinesis event's ``Records``, exactly as AWS sends it."""
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": str(seq),
            "data": base64.b64encode(data).decode("ascii"),
            "approximateArrivalTimestamp": arrival,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{seq}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": role_arn,
        "awsRegion": region,
        "eventSourceARN": arn,
    }


def shard_of(partition_key: str, shards: int) -> int:
    """The shard Kinesis puts a key on: the MD5 of the key, in equal hash-key ranges."""
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big") * shards // 2**128


def lambda_batches(day: Iterable[dict], shards: int = 2, batch_size: int = 100) -> list[dict]:
    """The events as Lambda Kinesis events: each shard's records in order, ``batch_size`` at a time.

    Records go to a shard by their partition key (the product id), so a product's events keep their
    order; batches of different shards alternate, as concurrent shards would interleave.
    """
    per_shard = [[] for _ in range(shards)]
    for event in day:
        key = events.partition_key(event)
        per_shard[shard_of(key, shards)].append((events.encode(event), key))
    queues = []
    for number, records in enumerate(per_shard):
        shard = f"shardId-{number:012d}"
        items = [kinesis_record(shard, FIRST_SEQUENCE_NUMBER + n, data, key) for n, (data, key) in enumerate(records)]
        queues.append([{"Records": items[i:i + batch_size]} for i in range(0, len(items), batch_size)])
    longest = max((len(q) for q in queues), default=0)
    return [q[i] for i in range(longest) for q in queues if i < len(q)]


def retry_position(sequence_numbers: Sequence[str | int], response: object) -> int | None:
    """Where the event source mapping restarts a batch after the function answered ``response``.

    With ReportBatchItemFailures, Lambda retries from the lowest reported ``itemIdentifier``: the
    records before it are done. Returns None when nothing was reported (the batch succeeded), else the
    index in ``sequence_numbers`` (the batch's, as strings) to restart from; 0 when an identifier is
    not one of the batch's, since AWS then retries the whole batch.
    """
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    if not failures:
        return None
    positions = {str(sequence): i for i, sequence in enumerate(sequence_numbers)}
    identifiers = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
    if any(not isinstance(i, str) or i not in positions for i in identifiers):
        return 0
    return min(positions[i] for i in identifiers)
