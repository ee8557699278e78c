"""Writing to and reading from Kinesis: limits, partial failures retried, every event exactly once."""

from collections import Counter, defaultdict

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from hello_winners import events as E
from hello_winners.errors import (
    AwsUnreachableError,
    EventError,
    StreamReadError,
    StreamWriteError,
)
from hello_winners.game.simulator import simulate
from hello_winners.game.stream import (
    MAX_BYTES,
    MAX_RECORDS,
    batches,
    partition_key,
    put_events,
    read_records,
    read_stream,
)

STREAM = "hello-winners-test-stream"


@pytest.fixture
def kinesis():
    with mock_aws():
        client = boto3.client("kinesis", region_name="us-east-1")
        client.create_stream(StreamName=STREAM, ShardCount=3)
        client.get_waiter("stream_exists").wait(StreamName=STREAM)
        yield client


@pytest.fixture(scope="module")
def game():
    return list(simulate(seed=5, participants=8, views_per_customer=60, category_views_per_customer=10))


class Flaky:
    """A Kinesis client whose PutRecords reports every third record failed, ``times`` times over."""

    def __init__(self, client, times=1, every=3):
        self.client, self.times, self.every = client, times, every
        self.calls = []

    def put_records(self, StreamName, Records):
        self.calls.append(len(Records))
        if self.times == 0:
            return self.client.put_records(StreamName=StreamName, Records=Records)
        self.times -= 1
        keep = [record for i, record in enumerate(Records) if i % self.every]
        written = iter(self.client.put_records(StreamName=StreamName, Records=keep)["Records"]) if keep else iter(())
        results = [next(written) if i % self.every else
                   {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded"}
                   for i in range(len(Records))]
        return {"FailedRecordCount": sum(1 for r in results if "ErrorCode" in r), "Records": results}


def test_partial_failures_are_resent_until_every_event_is_on_the_stream_exactly_once(kinesis, game):
    flaky, pauses = Flaky(kinesis, times=2), []
    assert len(game) > MAX_RECORDS
    assert put_events(flaky, STREAM, game, sleep=pauses.append) == len(game)
    assert flaky.calls[0] == MAX_RECORDS and flaky.calls[1] == -(-MAX_RECORDS // 3)  # only the failed ones
    assert len(pauses) == 2 and all(pause >= 0 for pause in pauses)
    read = [event for _, _, event in read_stream(kinesis, STREAM)]
    assert Counter(map(E.encode, read)) == Counter(map(E.encode, game))


def test_each_products_events_keep_their_order_on_one_shard(kinesis, game):
    put_events(kinesis, STREAM, game)
    shards, order = defaultdict(set), defaultdict(list)
    last = {}
    for shard_id, sequence, event in read_stream(kinesis, STREAM):
        key = partition_key(event)
        shards[key].add(shard_id)
        order[key].append(E.encode(event))
        assert int(sequence) > last.get(shard_id, -1)
        last[shard_id] = int(sequence)
    assert all(len(ids) == 1 for ids in shards.values())
    expected = defaultdict(list)
    for event in game:
        expected[partition_key(event)].append(E.encode(event))
    assert order == expected
    assert len(last) > 1


def test_after_max_attempts_the_error_says_how_many_were_not_written(kinesis, game):
    pauses = []
    with pytest.raises(StreamWriteError) as caught:
        put_events(Flaky(kinesis, times=99), STREAM, game[:10], sleep=pauses.append, max_attempts=3)
    assert caught.value.failed == 1  # record 0 fails every time; 3, 6, 9 succeed once they move
    assert "1 events were not written" in str(caught.value) and "after 3 attempts" in str(caught.value)
    assert len(pauses) == 2


def test_backoff_grows_and_is_capped(kinesis):
    pauses = []
    with pytest.raises(StreamWriteError):
        put_events(Flaky(kinesis, times=99, every=1), STREAM, list(simulate(seed=1, participants=2))[:5],
                   sleep=pauses.append, max_attempts=12, base_delay=0.1, max_delay=2.0)
    assert len(pauses) == 11 and max(pauses) <= 2.0


class Throttled:
    """A client whose first PutRecords call is throttled as a whole."""

    def __init__(self, client):
        self.client, self.throttled = client, False

    def put_records(self, **kwargs):
        if not self.throttled:
            self.throttled = True
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                              "PutRecords")
        return self.client.put_records(**kwargs)


def test_a_throttled_call_is_retried(kinesis, game):
    assert put_events(Throttled(kinesis), STREAM, game[:20], sleep=lambda _: None) == 20
    assert len(list(read_records(kinesis, STREAM))) == 20


def test_a_missing_stream_is_a_clear_error(kinesis, game):
    with pytest.raises(StreamWriteError, match="check that the stream exists"):
        put_events(kinesis, "no-such-stream", game[:3])
    with pytest.raises(StreamReadError, match="ResourceNotFoundException"):
        list(read_stream(kinesis, "no-such-stream"))


def test_batches_stay_within_500_records_and_5_mib():
    big = [E.product_view("AH1", "Sam", str(i), time="2017-06-13T16:00:00Z") | {"pad": "x" * 100_000}
           for i in range(120)]
    small = list(simulate(seed=2, participants=4, views_per_customer=300))
    for events in (big, small):
        sizes = [(len(batch), sum(len(r["Data"]) + len(r["PartitionKey"]) for r in batch)) for batch in batches(events)]
        assert sum(n for n, _ in sizes) == len(events)
        assert all(n <= MAX_RECORDS and size <= MAX_BYTES for n, size in sizes)
    assert len(list(batches(big))) == 3


def test_a_record_over_one_mib_is_refused():
    huge = E.product_view("AH1", "Sam", "1", time="2017-06-13T16:00:00Z") | {"pad": "x" * (1024 * 1024)}
    with pytest.raises(StreamWriteError, match="1 MiB"):
        list(batches([huge]))


def test_partition_keys_are_product_ids_or_the_category():
    assert partition_key(E.product_purchase("AH1", "Sam", "9000001")) == "9000001"
    assert partition_key(E.category_view("AH1", "Sam", "Shoes")) == "Shoes"
    assert partition_key({"origin": "scripts/x", "data": {"schema": "x"}}) == "scripts/x"
    assert partition_key("garbage") == "-"
    assert len(partition_key(E.product_view("AH1", "Sam", "9" * 300))) == 256


def test_progress_goes_to_any_bar_with_update(kinesis, game):
    class Bar:
        total = 0

        def update(self, n):
            Bar.total += n

    put_events(kinesis, STREAM, iter(game), progress=Bar())
    assert Bar.total == len(game)


def test_progress_true_uses_tqdm(kinesis, game, capsys):
    assert put_events(kinesis, STREAM, game[:10], progress=True) == 10
    assert "10/10" in capsys.readouterr().err


def test_read_records_gives_the_raw_bytes(kinesis):
    kinesis.put_record(StreamName=STREAM, Data=b"not json", PartitionKey="x")
    assert [data for _, _, data in read_records(kinesis, STREAM)] == [b"not json"]
    with pytest.raises(EventError, match="not valid JSON"):
        list(read_stream(kinesis, STREAM))


def test_an_unreachable_endpoint_is_a_clear_error(game):
    dead = boto3.client("kinesis", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                        config=Config(retries={"max_attempts": 0}, connect_timeout=1))
    with pytest.raises(AwsUnreachableError):
        put_events(dead, STREAM, game[:3])
    with pytest.raises(AwsUnreachableError):
        list(read_stream(dead, STREAM))
