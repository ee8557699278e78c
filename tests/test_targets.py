"""The real-AWS target's wait for the consumer, on moto's in-process mock: a timeout says why."""

import datetime

import pytest
from botocore.stub import Stubber

from hello_winners import deploy, targets
from hello_winners.errors import DeployError
from hello_winners.game import stream
from hello_winners.view import tables
from hello_winners.workshop import lessons


def test_a_wait_that_times_out_shows_the_mappings_state_and_last_result(mocked_aws):
    clients = deploy.clients()
    clients["kinesis"].create_stream(StreamName="hw-alice-retail-stream", ShardCount=1)
    stream.put_events(clients["kinesis"], "hw-alice-retail-stream", lessons.small_game())
    table_names = tables.create(clients["dynamodb"], "hw-alice-")
    with Stubber(clients["lambda"]) as stub:
        stub.add_response("list_event_source_mappings", {"EventSourceMappings": [{
            "UUID": "00000000-0000-0000-0000-000000000001", "State": "Enabled", "LastProcessingResult": "PROBLEM: Function call failed",
            "LastModified": datetime.datetime(2026, 1, 1)}]})
        with pytest.raises(DeployError) as timed_out:
            targets.get().wait_until_consumed(clients, "hw-alice-retail-stream", table_names, report=lambda line: None,
                                              timeout_s=0, sleep=lambda s: None)
    assert "(its event source mapping is Enabled, last processing result: PROBLEM: Function call failed)" in str(timed_out.value)
    assert str(timed_out.value).startswith("the consumer counted 0 of ")


def test_status_shows_the_runtimes_shards_of_the_chosen_stage_only(monkeypatch):
    from hello_winners.embedded import runtime
    from hello_winners.embedded.target import EmbeddedTarget

    def shard(stream, records):
        return {"shard": "shardId-000000000000", "stream": stream, "records": records, "batches": 1, "retries": 0,
                "discarded": 0, "error": None}

    monkeypatch.setattr(runtime, "status", lambda: {"shards": [shard("hw-alice-retail-stream", 3),
                                                               shard("hw-alice-2-retail-stream", 5)]})
    lines = EmbeddedTarget().runtime_lines("hw-alice-retail-stream")
    assert len(lines) == 1 and "3 records" in lines[0]
