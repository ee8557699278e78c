"""The real-AWS target's wait for the consumer, on moto's in-process mock: a timeout says why."""

import datetime

import pytest
from botocore.stub import Stubber

from hello_winners import deploy, targets
from hello_winners.errors import DeployError
from hello_winners.game import stream
from hello_winners.targets import sessions
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


def test_sessions_keep_their_own_region_and_keys_and_read_a_service_model_once_between_them(monkeypatch):
    """What makes a stage's participant themselves stays in their session; the models are the process's."""
    read = []
    file_loader = sessions.loader().file_loader
    load_file = file_loader.load_file
    monkeypatch.setattr(file_loader, "load_file", lambda path: read.append(path) or load_file(path))
    alice = sessions.session(region_name="eu-west-1", aws_access_key_id="AKIDALICE", aws_secret_access_key="a")
    bob = sessions.session(region_name="ap-south-1", aws_access_key_id="AKIDBOB", aws_secret_access_key="b")
    # braket: a service no other test asks for, so its model is read here, by alice's client, and only there
    assert alice.client("braket").meta.region_name == "eu-west-1"
    assert bob.client("braket").meta.region_name == "ap-south-1"
    assert alice.get_credentials().access_key == "AKIDALICE" and bob.get_credentials().access_key == "AKIDBOB"
    assert any("braket" in str(path) for path in read) and len(read) == len(set(read))
    paths = list(sessions.loader().search_paths)
    sessions.session().client("braket")
    assert sessions.loader().search_paths == paths  # boto3 adds its data folder to each new session's loader
