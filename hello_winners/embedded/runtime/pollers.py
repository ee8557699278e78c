"""Polling one shard for one event source mapping, the way Lambda does.

One batch at a time per shard, in shard order, up to BatchSize records, waiting up to
MaximumBatchingWindowInSeconds for a batch to fill. The window is the time spent gathering a batch, so
it runs from when the batch's first record was read: records read while earlier batches ran have
already waited. After the function answers:
- success: the batch is done and the checkpoint moves past it;
- batchItemFailures (with ReportBatchItemFailures): the records before the lowest reported sequence
  number are done, and the next batch starts at it (an identifier that is not in the batch fails the
  whole batch, as on AWS);
- an error or a timeout: with BisectBatchOnFunctionError the batch is split in two halves, each then
  invoked (and bisected again if it fails) on its own before batching resumes; a failing batch of one
  record, or any failure without bisection, is retried up to MaximumRetryAttempts (-1: forever) and
  then discarded with a line in the runtime's log; with an on-failure destination (an SQS queue), Lambda's
  record of the batch (its shard, sequence numbers and size, not its records) is sent there with the
  function's role, as Lambda sends it.
Between polls it keeps Lambda's pace (pacing.py): at once while records come, about once a second when
none do, less after a quiet while; :meth:`ShardPoller.wake` makes it poll now (the runtime's sync: something
may have changed). Clock and sleep are injectable, so the semantics are tested without timing.
Checkpoints are kept in the state folder (checkpoints.py), so a restarted runtime resumes where it
stopped. A checkpoint that is not the sequence number of a record of its shard (a garbled or foreign
value) is said in the runtime's log and status, forgotten, and the shard re-read from its trim horizon:
the consumer is exact under redelivery, and the alternative is a poller that fails on every start.
"""

from __future__ import annotations

import collections
import datetime
import json
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Callable

import botocore.exceptions

from hello_winners.embedded.runtime import pacing
from hello_winners.embedded.runtime.checkpoints import Checkpoints, usable
from hello_winners.view.delivery import kinesis_record, retry_position

if TYPE_CHECKING:
    from hello_winners.embedded.runtime.functions import Function

GET_RECORDS_LIMIT = 10_000
# A change to any of these restarts the mapping's pollers (from their checkpoints).
SETTINGS = ("BatchSize", "MaximumBatchingWindowInSeconds", "BisectBatchOnFunctionError", "MaximumRetryAttempts",
            "FunctionResponseTypes", "FunctionArn", "DestinationConfig")


def settings(mapping: dict) -> dict:
    return {k: mapping.get(k) for k in SETTINGS}


class ShardPoller(threading.Thread):
    """Feeds one shard of a mapping's stream to its function until stopped.

    ``clock`` tells the time; ``sleep(seconds)`` pauses between polls and returns True when woken early
    (default: until :meth:`wake` or :meth:`stop`).
    """

    def __init__(self, kinesis: Any, mapping: dict, shard_id: str, function: Callable[[], Function],
                 checkpoints: Checkpoints, log: Callable[[str], None], region: str, role_arn: str = "",
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], Any] | None = None) -> None:
        super().__init__(daemon=True, name=f"poll-{shard_id}")
        self.kinesis = kinesis
        self.mapping = mapping
        self.shard_id = shard_id
        self.function = function  # a callable returning the current functions.Function
        self.checkpoints = checkpoints
        self.log = log
        self.region = region
        self.role_arn = role_arn  # the function's execution role: what Lambda puts in invokeIdentityArn
        self.stopping = threading.Event()
        self._woken = threading.Event()
        self._clock = clock
        self._sleep = sleep or self._until_woken
        self.caught_up_at = 0.0  # start time of the last poll that found the shard empty and nothing pending
        self.caught_up = False  # whether the latest poll did
        self.in_flight = False
        self.batches = self.records = self.retries = self.discarded = 0
        self.error = None
        self.checkpoint_reset = None  # why the stored checkpoint was not used, when it was not

    @property
    def uuid(self) -> str:
        return self.mapping["UUID"]

    def stop(self) -> None:
        self.stopping.set()
        self._woken.set()

    def wake(self) -> None:
        """Poll now rather than at the quiet pace: records may have just been put."""
        self._woken.set()

    def _until_woken(self, seconds):
        woken = self._woken.wait(seconds)
        self._woken.clear()
        return woken

    def run(self) -> None:
        try:
            self._poll()
        except Exception as error:  # noqa: BLE001 - reported through status, not lost in a thread
            self.error = f"{type(error).__name__}: {error}"
            self.log(f"poller {self.uuid}/{self.shard_id} stopped: {self.error}")

    def _poll(self):
        batch_size = int(self.mapping.get("BatchSize") or 100)
        window = float(self.mapping.get("MaximumBatchingWindowInSeconds") or 0)
        iterator = self._iterator()
        buffer = collections.deque()  # (when it was read, record): the batching window runs from the first's
        segments = []  # sizes of the pending halves of a bisected batch; the next one is last
        attempts = empty_polls = 0
        while not self.stopping.is_set():
            if len(buffer) < batch_size and iterator:
                started = self._clock()
                page = self.kinesis.get_records(ShardIterator=iterator, Limit=GET_RECORDS_LIMIT)
                iterator = page.get("NextShardIterator")
                read_at = self._clock()
                buffer.extend((read_at, record) for record in page["Records"])
                empty_polls = 0 if page["Records"] else empty_polls + 1
                self.caught_up = not buffer and not page.get("MillisBehindLatest")
                if self.caught_up:
                    self.caught_up_at = started
            if not buffer:
                if iterator is None:
                    return  # a closed shard, fully processed
                if self._sleep(pacing.idle_wait(empty_polls)):
                    empty_polls = 0
                continue
            if not segments and len(buffer) < batch_size and iterator:
                wait = pacing.window_wait(self._clock() - buffer[0][0], window)
                if wait:
                    self._sleep(wait)
                    continue
            batch = [buffer[i][1] for i in range(min(segments[-1] if segments else batch_size, len(buffer)))]
            done, attempts = self._run_batch(batch, segments, attempts)
            for _ in range(done):
                buffer.popleft()
            if done:
                self.checkpoints.set(self.uuid, self.shard_id, batch[done - 1]["SequenceNumber"])

    def _run_batch(self, batch, segments, attempts):
        """Invoke the function on ``batch``; returns (records done, failed attempts so far).

        ``segments`` (the pending halves of a bisected batch) is updated in place.
        """
        self.in_flight = True
        try:
            outcome = self.function().invoke(self._event(batch))
        finally:
            self.in_flight = False
        self.batches += 1
        failed_at = self._failed_at(batch, outcome)
        if failed_at is None:
            self.records += len(batch)
            if segments:
                segments.pop()
            return len(batch), 0
        self.retries += 1
        if failed_at > 0:  # a partial batch response: the records before the failure are done
            self.records += failed_at
            if segments:
                segments[-1] -= failed_at
            return failed_at, attempts + 1
        if self.mapping.get("BisectBatchOnFunctionError") and len(batch) > 1 and outcome.error:
            if segments:
                segments.pop()
            segments += [len(batch) - len(batch) // 2, len(batch) // 2]  # first half on top
            return 0, attempts
        attempts += 1
        limit = self.mapping.get("MaximumRetryAttempts")
        if limit is not None and limit >= 0 and attempts > limit:
            self.discarded += len(batch)
            self.log(f"discarded {len(batch)} records of {self.shard_id} from {batch[0]['SequenceNumber']} "
                     f"after {attempts} failed attempts: {outcome.error or 'batchItemFailures'}")
            self._send_to_destination(batch, attempts, outcome)
            if segments:
                segments.pop()
            return len(batch), 0
        return 0, attempts

    def _send_to_destination(self, batch, attempts, outcome):
        """Lambda's record of a discarded batch, to the mapping's on-failure queue, sent as the function's role."""
        destination = ((self.mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination") or ""
        if not destination.startswith("arn:") or ":sqs:" not in destination:
            return
        record = failure_record(self.mapping, self.shard_id, batch, attempts, bool(outcome.error))
        function = self.function()
        _, _, _, _, account, name = destination.split(":", 5)
        try:
            function.client("sqs").send_message(QueueUrl=f"{function.environment['AWS_ENDPOINT_URL']}/{account}/{name}",
                                                MessageBody=json.dumps(record))
        except botocore.exceptions.ClientError as error:
            self.log(f"could not record the discarded batch in {destination}: {error}")

    def _failed_at(self, batch, outcome):
        """Index of the first record to retry, or None when the whole batch succeeded."""
        if outcome.error:
            self.log(f"{self.mapping['FunctionArn'].rpartition(':')[2]} failed on {self.shard_id} "
                     f"({len(batch)} records): {outcome.error.get('errorType')}: {outcome.error.get('errorMessage')}")
            return 0
        if "ReportBatchItemFailures" not in (self.mapping.get("FunctionResponseTypes") or []):
            return None
        return retry_position([r["SequenceNumber"] for r in batch], outcome.result)

    def _iterator(self):
        """Where polling starts: after the checkpoint when it is usable, else the trim horizon (said once)."""
        checkpoint = self.checkpoints.get(self.uuid, self.shard_id)
        if checkpoint is None:
            return self._shard_iterator(self.mapping.get("StartingPosition") or "TRIM_HORIZON")
        problem = self._unusable(checkpoint)
        if problem is None:
            return self._shard_iterator("AFTER_SEQUENCE_NUMBER", checkpoint)
        self.checkpoint_reset = f"the checkpoint {str(checkpoint)[:60]!r} {problem}: re-read from the trim horizon"
        self.log(f"{self.shard_id} of mapping {self.uuid}: {self.checkpoint_reset}")
        self.checkpoints.forget(self.uuid, self.shard_id)
        return self._shard_iterator("TRIM_HORIZON")

    def _unusable(self, checkpoint):
        """Why ``checkpoint`` cannot be resumed from, or None: it must name a record of this shard."""
        if not usable(checkpoint):
            return "is not a sequence number"
        try:
            records = self.kinesis.get_records(ShardIterator=self._shard_iterator("AT_SEQUENCE_NUMBER", checkpoint),
                                               Limit=1)["Records"]
        except botocore.exceptions.ClientError as error:
            return f"is refused by Kinesis ({error.response.get('Error', {}).get('Code')})"
        if not records or records[0]["SequenceNumber"] != checkpoint:
            return f"names no record of {self.shard_id}"
        return None

    def _shard_iterator(self, kind, sequence_number=None):
        request = {"StreamName": self.mapping["EventSourceArn"].rpartition("/")[2], "ShardId": self.shard_id,
                   "ShardIteratorType": kind}
        if sequence_number is not None:
            request["StartingSequenceNumber"] = sequence_number
        return self.kinesis.get_shard_iterator(**request)["ShardIterator"]

    def _event(self, batch):
        """The batch shaped exactly like the event Lambda sends for Kinesis."""
        return {"Records": [kinesis_record(
            self.shard_id, r["SequenceNumber"], r["Data"], r["PartitionKey"], arn=self.mapping["EventSourceArn"],
            arrival=r["ApproximateArrivalTimestamp"].timestamp(), role_arn=self.role_arn,
            region=self.region,
        ) for r in batch]}

    def status(self) -> dict:
        return {
            "mapping": self.uuid, "stream": self.mapping["EventSourceArn"].rpartition("/")[2], "shard": self.shard_id, "checkpoint": self.checkpoints.get(self.uuid, self.shard_id),
            "caught_up_at": self.caught_up_at, "in_flight": self.in_flight, "batches": self.batches,
            "records": self.records, "retries": self.retries, "discarded": self.discarded, "error": self.error,
            "alive": self.is_alive(), "checkpoint_reset": self.checkpoint_reset,
        }


def failure_record(mapping: dict, shard_id: str, batch: list[dict], attempts: int, function_error: bool) -> dict:
    """What Lambda sends an on-failure destination for a batch of a stream it gave up on: where the batch
    is on the stream (shard, first and last sequence numbers, size), not its records."""
    def arrived(record):
        return record["ApproximateArrivalTimestamp"].astimezone(datetime.timezone.utc).isoformat(timespec="milliseconds")

    return {
        "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": mapping["FunctionArn"],
                           "condition": "RetryAttemptsExhausted", "approximateInvokeCount": attempts},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                            **({"functionError": "Unhandled"} if function_error else {})},
        "version": "1.0",
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"),
        "KinesisBatchInfo": {"shardId": shard_id, "startSequenceNumber": batch[0]["SequenceNumber"],
                             "endSequenceNumber": batch[-1]["SequenceNumber"],
                             "approximateArrivalOfFirstRecord": arrived(batch[0]),
                             "approximateArrivalOfLastRecord": arrived(batch[-1]), "batchSize": len(batch),
                             "streamArn": mapping["EventSourceArn"]},
    }
