"""Putting events on the Kinesis stream and reading them back, within the service's limits.

Writing batches PutRecords calls (500 records and 5 MiB each, partition key = product id so every
event of a product lands in one shard, in order), resends only the records a call reports failed,
and backs off with jitter. Reading walks each shard from TRIM_HORIZON to its current end, which is
what a replay or an analysis of "everything so far" needs. Both take the boto3 client as a parameter.

Example
-------
>>> put_events(kinesis, "hello-winners-stream", simulate(seed=7), progress=True)  # doctest: +SKIP
2407
>>> for shard_id, sequence, event in read_stream(kinesis, "hello-winners-stream"):  # doctest: +SKIP
...     print(shard_id, sequence, event["data"]["schema"])
"""

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized

from botocore.exceptions import BotoCoreError, ClientError

from hello_winners.errors import (
    AwsUnreachableError,
    EventError,
    StreamReadError,
    StreamWriteError,
)
from hello_winners.events import decode, encode, partition_key
from hello_winners.view.calls import full_jitter

__all__ = [
    "MAX_BYTES",
    "MAX_RECORDS",
    "MAX_RECORD_BYTES",
    "batches",
    "oversized",
    "put_batch",
    "put_events",
    "read_records",
    "read_stream",
]

MAX_RECORDS = 500  # records per PutRecords call
MAX_BYTES = 5 * 1024 * 1024  # data plus partition keys per PutRecords call
MAX_RECORD_BYTES = 1024 * 1024  # data plus partition key of one record
_THROTTLED = {"ProvisionedThroughputExceededException", "ThrottlingException", "LimitExceededException",
              "KMSThrottlingException", "InternalFailure", "ServiceUnavailable"}


def oversized(events: Iterable[dict]) -> tuple[int, int] | None:
    """(0-based number, bytes) of the first event no Kinesis record can carry, or None: to check a log whole
    before anything is put."""
    for number, event in enumerate(events):
        record_size = _record_size(encode(event), partition_key(event))
        if record_size > MAX_RECORD_BYTES:
            return number, record_size
    return None


def _record_size(data, key):
    return len(data) + len(key.encode("utf-8"))


def batches(events: Iterable[dict]) -> Iterator[list[dict]]:
    """Lazily group events into PutRecords entries that respect the call's limits."""
    batch, size = [], 0
    for number, event in enumerate(events):
        data, key = encode(event), partition_key(event)
        record_size = _record_size(data, key)
        if record_size > MAX_RECORD_BYTES:
            raise StreamWriteError(f"event {number} is {record_size} bytes, over the 1 MiB Kinesis record "
                                   "limit; shorten it (put_events stopped before the batch that holds it).", failed=1)
        if batch and (len(batch) == MAX_RECORDS or size + record_size > MAX_BYTES):
            yield batch
            batch, size = [], 0
        batch.append({"Data": data, "PartitionKey": key})
        size += record_size
    if batch:
        yield batch


def put_events(kinesis: object, stream_name: str, events: Iterable[dict], *, progress: object = False,
               sleep: Callable[[float], object] = time.sleep, max_attempts: int = 8, base_delay: float = 0.1,
               max_delay: float = 5.0) -> int:
    """Put every event on the stream; return how many were written.

    ``progress`` is False, True (a tqdm bar that suits notebooks and terminals) or any object with
    ``update(n)``. A batch is retried, failed records only, up to ``max_attempts`` calls with
    exponential backoff and full jitter through ``sleep``; then StreamWriteError says how many events
    were not written (``.failed``).
    """
    bar, own_bar = _progress_bar(progress, events)
    written = 0
    try:
        for batch in batches(events):
            put_batch(kinesis, stream_name, batch, sleep=sleep, max_attempts=max_attempts, base_delay=base_delay,
                      max_delay=max_delay, written=written)
            written += len(batch)
            if bar is not None:
                bar.update(len(batch))
    finally:
        if own_bar:
            bar.close()
    return written


def _progress_bar(progress, events):
    if progress is True:
        from tqdm.auto import tqdm

        total = len(events) if isinstance(events, Sized) else None
        return tqdm(total=total, unit="event", desc="put_records"), True
    return (progress or None), False


def put_batch(kinesis: object, stream_name: str, batch: list[dict], *,
              sleep: Callable[[float], object] = time.sleep, max_attempts: int = 8, base_delay: float = 0.1,
              max_delay: float = 5.0, written: int = 0) -> list[dict]:
    """Put one PutRecords batch (entries of :func:`batches`), resending only what failed; each entry's
    result (``ShardId``, ``SequenceNumber``) in the batch's order.

    StreamWriteError when attempts run out (``written``: how many events of a longer run went before,
    for its message); AwsUnreachableError when the endpoint does not answer. Either way some of the
    batch may be on the stream already.
    """
    results: list[dict | None] = [None] * len(batch)
    pending, reasons = list(range(len(batch))), set()
    for attempt in range(1, max_attempts + 1):
        if attempt > 1:
            sleep(full_jitter(attempt - 2, base_delay, max_delay))
        try:
            response = kinesis.put_records(StreamName=stream_name, Records=[batch[i] for i in pending])
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in _THROTTLED:
                raise StreamWriteError(
                    f"PutRecords on stream {stream_name} failed with {code or exc}; check that the stream "
                    f"exists and is ACTIVE ({written} events were written before this).",
                    failed=len(pending)) from None
            reasons.add(code)
            continue
        except BotoCoreError as exc:
            raise _unreachable(exc) from None
        failed = []
        for index, result in zip(pending, response["Records"]):
            if result.get("ErrorCode"):
                reasons.add(result["ErrorCode"])
                failed.append(index)
            else:
                results[index] = result
        pending = failed
        if not pending:
            return results
    raise StreamWriteError(
        f"{len(pending)} events were not written to stream {stream_name} after {max_attempts} attempts "
        f"({', '.join(sorted(reasons))}): add shards or write more slowly; "
        f"{written + len(batch) - len(pending)} events are on the stream and later ones were not sent.",
        failed=len(pending))


def read_records(kinesis: object, stream_name: str, *, sleep: Callable[[float], object] = time.sleep,
                 limit: int = 10_000, after: Mapping[str, str] | None = None) -> Iterator[tuple[str, str, bytes]]:
    """Yield (shard id, sequence number, data bytes) from TRIM_HORIZON to the current end.

    Shards come one after another in shard-id order (a parent before its children); within a shard
    records keep their order. A shard is done when it is closed or caught up (no records and
    MillisBehindLatest 0). ``after`` maps shard ids to a sequence number to start after instead (what
    a reader that stopped there has already seen).
    """
    after = after or {}
    for shard_id in _call(_shard_ids, kinesis, stream_name):
        start = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": after[shard_id]}
                 if shard_id in after else {"ShardIteratorType": "TRIM_HORIZON"})
        iterator = _call(kinesis.get_shard_iterator, StreamName=stream_name, ShardId=shard_id,
                         **start)["ShardIterator"]
        while iterator:
            response = _call(_get_records, kinesis, iterator, limit, sleep)
            for record in response["Records"]:
                yield shard_id, record["SequenceNumber"], record["Data"]
            if not response["Records"] and response.get("MillisBehindLatest", 0) == 0:
                break
            if not response["Records"]:
                sleep(0.2)  # behind but empty: GetRecords allows 5 calls a second per shard
            iterator = response.get("NextShardIterator")


def read_stream(kinesis: object, stream_name: str, *,
                sleep: Callable[[float], object] = time.sleep) -> Iterator[tuple[str, str, dict]]:
    """Yield (shard id, sequence number, event) as read_records does, decoding each record's JSON."""
    for shard_id, sequence, data in read_records(kinesis, stream_name, sleep=sleep):
        try:
            event = decode(data)
        except EventError as exc:
            raise EventError(f"record {sequence} of {shard_id}: {exc}") from None
        yield shard_id, sequence, event


def _call(function, *args, **kwargs):
    """Run one read call, turning botocore's errors into one sentence."""
    try:
        return function(*args, **kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise StreamReadError(f"reading the stream failed with {error.get('Code', 'an error')} "
                              f"({error.get('Message', exc)}); check that the stream exists and is "
                              "ACTIVE, then retry.") from None
    except BotoCoreError as exc:
        raise _unreachable(exc) from None


def _unreachable(exc):
    return AwsUnreachableError(f"the Kinesis endpoint did not answer ({type(exc).__name__}); start the "
                               "embedded server or check the target, then retry.")


def _shard_ids(kinesis, stream_name):
    shards, token = [], None
    while True:
        page = (kinesis.list_shards(NextToken=token) if token
                else kinesis.list_shards(StreamName=stream_name))
        shards += [shard["ShardId"] for shard in page["Shards"]]
        token = page.get("NextToken")
        if not token:
            return sorted(shards)


def _get_records(kinesis, iterator, limit, sleep, attempts=8):
    """GetRecords, backing off while the shard's read throughput is exceeded."""
    for attempt in range(attempts):
        try:
            return kinesis.get_records(ShardIterator=iterator, Limit=limit)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in _THROTTLED or attempt == attempts - 1:
                raise
            sleep(full_jitter(attempt, 0.2, 5.0))
