"""What IAM checks is what moto acts on: each probe of issue 23, sent signed over HTTP, then the state checked."""

import json
import urllib.parse

import pytest

import world
from signed import json_call, query_call, send


@pytest.fixture(scope="module")
def probe(embedded_server):
    return world.build(embedded_server.endpoint)


def tables_of(probe):
    return set(probe.kit["dynamodb"].list_tables()["TableNames"])


def test_an_empty_transaction_or_batch_added_to_a_body_skips_no_check(probe):
    participant, api = probe.identities["participant"], probe.identities["api"]
    schema = {"AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
              "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"}
    for extra in ({"TransactItems": []}, {"RequestItems": {}}):
        answer = json_call(probe.endpoint, participant, "dynamodb", "CreateTable",
                           {"TableName": "binding-outside-table", **schema, **extra})
        assert answer.status in (400, 403), answer
        statement = json_call(probe.endpoint, participant, "dynamodb", "ExecuteStatement",
                              {"Statement": f'SELECT * FROM "{probe.victim.tables["TABLE_SCORES_NAME"]}"', **extra})
        assert statement.status in (400, 403), statement
        rejects = probe.victim.tables["TABLE_REJECTS_NAME"]
        deleted = json_call(probe.endpoint, api, "dynamodb", "DeleteTable", {"TableName": rejects, **extra})
        assert deleted.status in (400, 403), deleted
        assert "binding-outside-table" not in tables_of(probe) and rejects in tables_of(probe)


def test_a_resource_arn_beside_a_table_name_cannot_redirect_an_update(probe):
    victim_scores = probe.victim.tables["TABLE_SCORES_NAME"]
    answer = json_call(probe.endpoint, probe.identities["consumer"], "dynamodb", "UpdateItem", {
        "TableName": victim_scores, "ResourceArn": probe.own.table_arn("TABLE_SCORES_NAME"),
        "Key": {"userId": {"S": "kenji"}, "role": {"S": "merchant"}},
        "UpdateExpression": "SET score = :s", "ExpressionAttributeValues": {":s": {"N": "999999"}}})
    assert answer.status == 400 and answer.code == "ValidationException", answer
    item = probe.kit["dynamodb"].get_item(TableName=victim_scores,
                                          Key={"userId": {"S": "kenji"}, "role": {"S": "merchant"}})
    assert "Item" not in item
    # The same update on the role's own table, named once, is allowed: the check is not just stricter.
    own = json_call(probe.endpoint, probe.identities["consumer"], "dynamodb", "UpdateItem", {
        "TableName": probe.own.tables["TABLE_SCORES_NAME"], "Key": {"userId": {"S": "kenji"}, "role": {"S": "merchant"}},
        "UpdateExpression": "SET score = :s", "ExpressionAttributeValues": {":s": {"N": "1"}}})
    assert own.status == 200, own


def test_a_stream_arn_beside_a_stream_name_cannot_redirect_a_call(probe):
    participant, consumer = probe.identities["participant"], probe.identities["consumer"]
    created = json_call(probe.endpoint, participant, "kinesis", "CreateStream",
                        {"StreamName": "binding-outside-s", "StreamARN": probe.own.stream_arn, "ShardCount": 1})
    assert created.status == 400, created
    assert "binding-outside-s" not in probe.kit["kinesis"].list_streams()["StreamNames"]
    for operation in ("ListShards", "DescribeStream"):
        answer = json_call(probe.endpoint, consumer, "kinesis", operation,
                           {"StreamName": probe.victim.stream, "StreamARN": probe.own.stream_arn})
        assert answer.status == 400, answer
        refused = json_call(probe.endpoint, consumer, "kinesis", operation, {"StreamARN": probe.victim.stream_arn})
        assert refused.status == 403, refused
        own = json_call(probe.endpoint, consumer, "kinesis", operation, {"StreamARN": probe.own.stream_arn})
        assert own.status == 200, own


def test_an_extra_resource_field_cannot_authorize_creating_a_function(probe):
    role = probe.own.role_arn("consumer")
    answer = send(probe.endpoint, probe.identities["participant"], "lambda", "POST", "/2015-03-31/functions",
                  body={"FunctionName": "evil-fn", "Runtime": "python3.12", "Role": role, "Handler": "h.h",
                        "Code": {"ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="},
                        "Resource": probe.own.function_arn("api")},
                  headers={"Content-Type": "application/json"})
    assert answer.status == 400, answer
    names = [f["FunctionName"] for f in probe.kit["lambda"].list_functions()["Functions"]]
    assert "evil-fn" not in names


def test_an_invoke_payload_is_read_as_the_payload_not_as_parameters(probe):
    function = urllib.parse.quote(probe.own.function("api"), safe="")
    answer = send(probe.endpoint, probe.identities["participant"], "lambda", "POST",
                  f"/2015-03-31/functions/{function}/invocations", body=json.dumps({"UUID": "x"}),
                  headers={"X-Amz-Invocation-Type": "DryRun", "Content-Type": "application/octet-stream"})
    # Read as a payload (a parameter UUID would be refused with a 400), then refused by the room policy, which
    # grants no participant lambda:InvokeFunction: nothing of the kit invokes a function directly.
    assert answer.status == 403 and answer.code == "AccessDeniedException", answer


@pytest.mark.parametrize("action", ["CreateRole", "GetRole"])
def test_iam_parameters_in_the_url_and_in_the_body_at_once_are_refused(probe, action):
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    body = [("Action", action), ("Version", "2010-05-08"), ("RoleName", probe.own.role("consumer"))]
    if action == "CreateRole":
        body.append(("AssumeRolePolicyDocument", trust))
    answer = query_call(probe.endpoint, probe.identities["participant"], "iam", body,
                        url_params=[("RoleName", "binding-outside-role")])
    assert answer.status == 400, answer
    roles = [r["RoleName"] for r in probe.kit["iam"].list_roles()["Roles"]]
    assert "binding-outside-role" not in roles
