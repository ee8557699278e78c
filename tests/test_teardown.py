"""Teardown on a shared account: exactly the stage's own things, and patient with AWS's lagging lists.

moto's in-process mock plays real AWS; botocore's Stubber plays what moto cannot show (a list that
still shows a deleted stream, a stream already being deleted).
"""

import datetime

import boto3
import pytest
from botocore.stub import Stubber

from hello_winners import deploy, naming
from hello_winners.deploy import teardown
from hello_winners.errors import DeployError

QUIET = lambda line: None  # noqa: E731
STREAM = "hw-alice-retail-stream"
ALICE_TAGS = [{"Key": k, "Value": v} for k, v in naming.tags("alice").items()]


def deployed(*stages):
    """Deploy each stage on the mocked AWS and give its functions the log groups Lambda would create."""
    clients = deploy.clients()
    for stage in stages:
        deploy.deploy(stage=stage, report=QUIET)
        for kind in naming.FUNCTION_KINDS:
            clients["logs"].create_log_group(logGroupName=f"/aws/lambda/{naming.function(naming.prefix(stage), kind)}")
    return clients


def log_groups(clients):
    return {g["logGroupName"] for g in clients["logs"].describe_log_groups()["logGroups"]}


def test_teardown_of_alice_leaves_alice_2_and_untagged_look_alikes_alone(mocked_aws):
    clients = deployed("alice", "alice-2")
    look_alikes = {"/aws/lambda/hw-alice-notes", "/aws/lambda/hw-alice-winner-consumer-old"}
    for group in look_alikes:
        clients["logs"].create_log_group(logGroupName=group)
    clients["dynamodb"].create_table(
        TableName="hw-alice-notes", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
    alice_2 = teardown.inventory(clients, "hw-alice-2-", "alice-2")
    said = []

    removed = teardown.teardown(clients, "hw-alice-", "alice", report=said.append, sleep=pytest.fail)

    assert {r.name for r in removed if r.kind == "log group"} == {
        "/aws/lambda/hw-alice-winner-consumer", "/aws/lambda/hw-alice-winner-api"}
    assert teardown.inventory(clients, "hw-alice-2-", "alice-2") == alice_2
    assert {"/aws/lambda/hw-alice-2-winner-consumer", "/aws/lambda/hw-alice-2-winner-api"} | look_alikes <= log_groups(clients)
    assert "hw-alice-notes" in clients["dynamodb"].list_tables()["TableNames"]
    assert any(line.startswith("  kept table hw-alice-notes") for line in said)
    assert not any("hw-alice-2-" in line for line in said)  # another stage's things are neither deleted nor "kept"


def test_the_log_group_of_a_look_alike_function_of_the_same_name_is_kept(mocked_aws):
    clients = deployed("alice")
    lam = clients["lambda"]
    api = lam.get_function_configuration(FunctionName="hw-alice-winner-api")["FunctionArn"]
    lam.untag_resource(Resource=api, TagKeys=list(naming.tags("alice")))
    teardown.teardown(clients, "hw-alice-", "alice", report=QUIET, sleep=pytest.fail)
    assert "/aws/lambda/hw-alice-winner-api" in log_groups(clients)
    assert "/aws/lambda/hw-alice-winner-consumer" not in log_groups(clients)


def kinesis_stub(kinesis, lists_after_delete):
    """A stubbed Kinesis with the stage's stream: deleted at once, then still listed ``lists_after_delete`` times."""
    stub = Stubber(kinesis)
    listed = {"StreamNames": [STREAM], "HasMoreStreams": False}
    stub.add_response("list_streams", listed)
    stub.add_response("list_tags_for_stream", {"Tags": ALICE_TAGS, "HasMoreTags": False})
    stub.add_response("delete_stream", {}, {"StreamName": STREAM, "EnforceConsumerDeletion": True})
    stub.add_client_error("describe_stream", "ResourceNotFoundException")
    for _ in range(lists_after_delete):
        stub.add_response("list_streams", listed)
        stub.add_response("list_tags_for_stream", {"Tags": ALICE_TAGS, "HasMoreTags": False})
    stub.add_response("list_streams", {"StreamNames": [], "HasMoreStreams": False})
    return stub


def moto_and(kinesis):
    return {**deploy.clients(), "kinesis": kinesis}


def test_the_verification_asks_again_while_a_list_still_shows_the_deleted_stream(mocked_aws):
    kinesis = boto3.client("kinesis")
    slept = []
    with kinesis_stub(kinesis, lists_after_delete=2) as stub:
        removed = teardown.teardown(moto_and(kinesis), "hw-alice-", "alice", report=QUIET, sleep=slept.append)
        stub.assert_no_pending_responses()
    assert [r.name for r in removed] == [STREAM]
    assert slept == list(teardown.VERIFY_DELAYS_S[:2])


def test_the_verification_gives_up_after_about_a_minute_and_says_what_is_left(mocked_aws):
    kinesis = boto3.client("kinesis")
    with kinesis_stub(kinesis, lists_after_delete=len(teardown.VERIFY_DELAYS_S) + 1):
        with pytest.raises(DeployError, match=f"teardown left 1 resources \\(stream {STREAM}\\): run teardown again"):
            teardown.teardown(moto_and(kinesis), "hw-alice-", "alice", report=QUIET, sleep=lambda s: None)
    assert 45 <= sum(teardown.VERIFY_DELAYS_S) <= 120


def test_a_rerun_waits_for_a_stream_an_earlier_run_began_deleting(mocked_aws):
    kinesis = boto3.client("kinesis")
    with Stubber(kinesis) as stub:
        stub.add_response("list_streams", {"StreamNames": [STREAM], "HasMoreStreams": False})
        stub.add_response("list_tags_for_stream", {"Tags": ALICE_TAGS, "HasMoreTags": False})
        stub.add_client_error("delete_stream", "ResourceInUseException", f"Stream {STREAM} is being deleted")
        stub.add_response("describe_stream_summary", {"StreamDescriptionSummary": {
            "StreamName": STREAM, "StreamARN": f"arn:aws:kinesis:us-east-1:123456789012:stream/{STREAM}",
            "StreamStatus": "DELETING", "RetentionPeriodHours": 24, "EnhancedMonitoring": [], "OpenShardCount": 2,
            "StreamCreationTimestamp": datetime.datetime(2026, 1, 1)}})
        stub.add_client_error("describe_stream", "ResourceNotFoundException")
        stub.add_response("list_streams", {"StreamNames": [], "HasMoreStreams": False})
        removed = teardown.teardown(moto_and(kinesis), "hw-alice-", "alice", report=QUIET, sleep=pytest.fail)
        stub.assert_no_pending_responses()
    assert [r.kind for r in removed] == ["stream"]
    assert teardown.STREAM_GONE["Delay"] * teardown.STREAM_GONE["MaxAttempts"] >= 600  # streams take minutes to go


def test_teardown_finds_an_api_past_the_first_page(mocked_aws):
    clients = deployed("alice")
    apis = clients["apigatewayv2"]
    ours = [a for a in apis.get_apis()["Items"] if a["Name"] == "hw-alice-winner-api"]
    others = [{**ours[0], "Name": f"someone-else-{n}", "ApiId": f"other{n}", "Tags": {}} for n in range(3)]
    with Stubber(apis) as stub:
        stub.add_response("get_apis", {"Items": others, "NextToken": "page-2"}, {})
        stub.add_response("get_apis", {"Items": ours}, {"NextToken": "page-2"})
        found = teardown.inventory(clients, "hw-alice-", "alice")
    assert ("HTTP API", "hw-alice-winner-api", True) in {(f.kind, f.name, f.ours) for f in found}


def _two_stages_and_a_stranger():
    from hello_winners import deploy, naming
    from hello_winners.view import tables

    clients = deploy.clients("aws")
    for stage in ("alice", "bob"):
        tables.create(clients["dynamodb"], naming.prefix(stage), naming.tags(stage))
    tables.create(clients["dynamodb"], "hw-stranger-")  # the kit's name, nobody's tags: not the kit's
    return clients


def test_teardown_of_all_stages_lists_the_tagged_stages_and_deletes_only_them_with_yes(mocked_aws, capsys):
    from hello_winners import cli
    from hello_winners.deploy import teardown

    clients = _two_stages_and_a_stranger()
    assert teardown.stages(clients) == {"alice": 3, "bob": 3}
    assert cli.main(["teardown", "--all-stages", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "alice" in out and "bob" in out and "removed 2 stages" in out
    assert teardown.stages(clients) == {}
    assert all(name.startswith("hw-stranger-") for name in clients["dynamodb"].list_tables()["TableNames"])


def test_teardown_of_all_stages_asks_first_and_deletes_nothing_without_a_yes(mocked_aws, capsys, monkeypatch):
    from hello_winners import cli
    from hello_winners.deploy import teardown

    clients = _two_stages_and_a_stranger()
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert cli.main(["teardown", "--all-stages"]) == 1
    assert "nothing deleted" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert cli.main(["teardown", "--all-stages"]) == 1
    assert "pass --yes" in capsys.readouterr().out
    assert teardown.stages(clients) == {"alice": 3, "bob": 3}
