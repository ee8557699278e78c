"""Events as Lambda's event source mapping delivers them: Kinesis records and per-shard batches.

For everything that hands the consumer a batch without a stream: the local runtime's pollers, the
lessons, the checkers, the tests and the benchmarks.
"""

import base64
import hashlib

from . import events, stream

# What a Kinesis sequence number looks like: 56 digits, rising within a shard.
FIRST_SEQUENCE_NUMBER = 49590338271490256608559692538361571095921575989136588898
_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
_ROLE = "arn:aws:iam::000000000000:role/consumer"


def kinesis_record(shard_id, seq, data, partition_key="p", arn=_ARN, arrival=1700000000.0, role_arn=_ROLE,
                   region="us-east-1"):
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


def shard_of(partition_key, shards):
    """The shard Kinesis puts a key on: the MD5 of the key, in equal hash-key ranges."""
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big") * shards // 2**128


def lambda_batches(day, shards=2, batch_size=100):
    """The events as Lambda Kinesis events: each shard's records in order, ``batch_size`` at a time.

    Records go to a shard by their partition key (the product id), so a product's events keep their
    order; batches of different shards alternate, as concurrent shards would interleave.
    """
    per_shard = [[] for _ in range(shards)]
    for event in day:
        key = stream.partition_key(event)
        per_shard[shard_of(key, shards)].append((events.encode(event), key))
    queues = []
    for number, records in enumerate(per_shard):
        shard = f"shardId-{number:012d}"
        items = [kinesis_record(shard, FIRST_SEQUENCE_NUMBER + n, data, key) for n, (data, key) in enumerate(records)]
        queues.append([{"Records": items[i:i + batch_size]} for i in range(0, len(items), batch_size)])
    longest = max((len(q) for q in queues), default=0)
    return [q[i] for i in range(longest) for q in queues if i < len(q)]
