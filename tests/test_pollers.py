"""The local runtime's shard poller, on a fake clock: what Lambda promises, and quiet at rest.

A fake shard (records that arrive at given times), a fake function and a fake sleep that only moves
the clock drive :class:`ShardPoller` in the test's own thread, so nothing here depends on timing.
"""

import datetime

from hypothesis import given
from hypothesis import strategies as st

from hello_winners.embedded.runtime import pacing
from hello_winners.embedded.runtime.checkpoints import Checkpoints
from hello_winners.embedded.runtime.functions import Outcome
from hello_winners.embedded.runtime.pollers import ShardPoller

ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
HORIZON_S = 120.0


class FakeShard:
    """A shard whose records become readable at their arrival times; the iterator is the next index."""

    def __init__(self, arrivals, clock):
        self.arrivals = sorted(arrivals)
        self.clock = clock
        self.polls = []  # times of every GetRecords
        self.read_at = {}  # record index: when GetRecords first returned it

    def get_shard_iterator(self, **_request):
        return {"ShardIterator": "0"}

    def get_records(self, ShardIterator, Limit):
        self.polls.append(self.clock.now)
        start = int(ShardIterator)
        ready = [i for i in range(start, len(self.arrivals)) if self.arrivals[i] <= self.clock.now][:Limit]
        end = start + len(ready)
        for i in ready:
            self.read_at.setdefault(i, self.clock.now)
        return {"Records": [self.record(i) for i in ready], "NextShardIterator": str(end),
                "MillisBehindLatest": 0}

    def record(self, i):
        moment = datetime.datetime.fromtimestamp(self.arrivals[i], datetime.timezone.utc)
        return {"SequenceNumber": f"{i:020d}", "Data": b"{}", "PartitionKey": "p", "ApproximateArrivalTimestamp": moment}


class Clock:
    def __init__(self):
        self.now = 0.0


class FakeFunction:
    """Records each batch with the time it was invoked, and whether another batch was still running.

    Each invocation takes ``seconds`` of the fake clock.
    """

    def __init__(self, clock, seconds=0.0):
        self.clock = clock
        self.seconds = seconds
        self.batches = []
        self.running = 0
        self.overlapped = False

    def invoke(self, event):
        self.running += 1
        self.overlapped |= self.running > 1
        self.batches.append((self.clock.now, [int(r["kinesis"]["sequenceNumber"]) for r in event["Records"]]))
        self.clock.now += self.seconds
        self.running -= 1
        return Outcome(result={"batchItemFailures": []})


def drive(tmp_path, arrivals, batch_size=10, window=0.0, seconds=0.0):
    """Run a poller over the fake shard until the fake clock passes HORIZON_S; returns (shard, function).

    Each invocation of the function takes ``seconds``.
    """
    clock = Clock()
    shard, function = FakeShard(arrivals, clock), FakeFunction(clock, seconds)
    mapping = {"UUID": "u", "EventSourceArn": ARN, "FunctionArn": "arn:aws:lambda:us-east-1:0:function:f",
               "BatchSize": batch_size, "MaximumBatchingWindowInSeconds": window}
    poller = ShardPoller(shard, mapping, "shardId-0", lambda: function, Checkpoints(tmp_path / "c.json"),
                         log=lambda line: None, region="us-east-1", clock=lambda: clock.now, sleep=None)

    def sleep(seconds):
        assert seconds > 0, "a poller that never sleeps spins"
        clock.now += seconds
        if clock.now > HORIZON_S:
            poller.stop()

    poller._sleep = sleep
    poller.run()
    assert poller.error is None
    return shard, function


arrivals = st.lists(st.floats(min_value=0, max_value=HORIZON_S - 10, allow_nan=False), max_size=40)


@given(arrivals=arrivals, batch_size=st.integers(1, 12), window=st.sampled_from([0.0, 0.5, 3.0]))
def test_every_record_is_delivered_once_in_shard_order_one_batch_at_a_time(tmp_path_factory, arrivals, batch_size,
                                                                            window):
    _, function = drive(tmp_path_factory.mktemp("p"), arrivals, batch_size, window)
    delivered = [n for _, batch in function.batches for n in batch]
    assert delivered == list(range(len(arrivals)))
    assert not function.overlapped
    assert all(1 <= len(batch) <= batch_size for _, batch in function.batches)


@given(arrivals=arrivals, batch_size=st.integers(1, 12), window=st.sampled_from([0.5, 3.0, 10.0]),
       seconds=st.sampled_from([0.0, 0.4, 2.0]))
def test_a_batch_short_of_batch_size_waits_out_its_batching_window(tmp_path_factory, arrivals, batch_size, window,
                                                                   seconds):
    shard, function = drive(tmp_path_factory.mktemp("p"), arrivals, batch_size, window, seconds)
    for invoked, batch in function.batches:
        assert len(batch) == batch_size or invoked >= shard.arrivals[batch[0]] + window - pacing.WINDOW_SLACK_S


@given(arrivals=arrivals, batch_size=st.integers(1, 12), window=st.sampled_from([0.5, 1.0, 3.0]),
       seconds=st.sampled_from([0.0, 0.4, 2.0]))
def test_a_batch_waits_at_most_its_window_from_when_its_first_record_was_read(tmp_path_factory, arrivals, batch_size,
                                                                               window, seconds):
    """The window is time spent gathering the batch: records read while earlier batches ran have been gathered."""
    shard, function = drive(tmp_path_factory.mktemp("p"), arrivals, batch_size, window, seconds)
    previous_end = 0.0
    for invoked, batch in function.batches:
        assert invoked <= max(previous_end, shard.read_at[batch[0]] + window) + pacing.WINDOW_POLL_S
        previous_end = invoked + seconds


def test_the_rest_of_a_long_read_runs_at_once_when_it_has_waited_its_window_behind_full_batches(tmp_path):
    """The local runtime's drain of the workshop day: 1,121 records read at once, the last 21 kept waiting."""
    _, function = drive(tmp_path, [0.0] * 25, batch_size=10, window=1.0, seconds=0.6)
    assert [(invoked, len(batch)) for invoked, batch in function.batches] == [(0.0, 10), (0.6, 10), (1.2, 5)]


@given(arrivals=arrivals, window=st.sampled_from([0.0, 1.0]))
def test_the_first_record_after_a_quiet_spell_runs_within_the_quiet_pace(tmp_path_factory, arrivals, window):
    shard, function = drive(tmp_path_factory.mktemp("p"), arrivals, batch_size=1000, window=window)
    for invoked, batch in function.batches:
        assert invoked - shard.arrivals[batch[0]] <= pacing.POLL_CAP_S + window + pacing.WINDOW_POLL_S


def test_a_quiet_shard_is_polled_at_most_once_a_second_then_less(tmp_path):
    shard, _ = drive(tmp_path, [50.0])
    gaps = [b - a for a, b in zip(shard.polls, shard.polls[1:])]
    assert all(gap >= pacing.POLL_BASE_S for gap in gaps if gap)
    assert len(shard.polls) <= HORIZON_S / pacing.POLL_CAP_S + 5  # mostly at the quiet pace


def test_records_that_keep_coming_are_read_on_at_once(tmp_path):
    shard, function = drive(tmp_path, [0.0] * 25, batch_size=10)
    assert [len(batch) for _, batch in function.batches] == [10, 10, 5]
    assert {invoked for invoked, _ in function.batches} == {0.0}


@given(st.integers(-3, 100))
def test_idle_wait_keeps_lambdas_pace_and_backs_off_to_its_cap(empty_polls):
    wait = pacing.idle_wait(empty_polls)
    if empty_polls <= 0:
        assert wait == 0
    else:
        assert pacing.POLL_BASE_S <= wait <= pacing.POLL_CAP_S
        assert wait <= pacing.idle_wait(empty_polls + 1)
    assert pacing.idle_wait(10) == pacing.POLL_CAP_S


@given(st.floats(0, 20, allow_nan=False), st.floats(0.01, 20, allow_nan=False))
def test_window_wait_never_outlasts_the_window(open_for, window):
    wait = pacing.window_wait(open_for, window)
    assert 0 <= wait <= pacing.WINDOW_POLL_S and open_for + wait <= max(window, open_for) + 1e-9
    assert (wait == 0) == (window - open_for < pacing.WINDOW_SLACK_S)


@given(st.integers(0, 100))
def test_the_periodic_sync_backs_off_while_nothing_changes(unchanged):
    assert pacing.SYNC_BASE_S <= pacing.sync_wait(unchanged) <= pacing.SYNC_CAP_S
    assert pacing.sync_wait(unchanged) <= pacing.sync_wait(unchanged + 1)
    assert pacing.sync_wait(0) == pacing.SYNC_BASE_S and pacing.sync_wait(20) == pacing.SYNC_CAP_S


def test_a_woken_poller_does_not_wait_out_its_pause(tmp_path):
    poller = ShardPoller(None, {"UUID": "u"}, "shardId-0", lambda: None, Checkpoints(tmp_path / "c.json"),
                         log=lambda line: None, region="us-east-1")
    poller.wake()
    assert poller._sleep(3600) is True  # returns at once, saying it was woken
