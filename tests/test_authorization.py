"""What the embedded AWS asks IAM for each call: the action and the resource AWS's reference names."""

import base64
import re

import pytest

from hypothesis import given
from hypothesis import strategies as st

from hello_winners.embedded.authorization import Call, Check, Conflict, checks


def call(service, operation, method="POST", path="/", **params):
    return Call(service, operation, method, path, params, "us-east-1", "123456789012")


def test_each_table_of_a_batch_is_checked():
    found = checks(call("dynamodb", "BatchWriteItem", RequestItems={"hw-a-scores": [], "hw-a-rejects": []}))
    assert found == [Check("dynamodb:BatchWriteItem", ("arn:aws:dynamodb:us-east-1:123456789012:table/hw-a-rejects",)),
                     Check("dynamodb:BatchWriteItem", ("arn:aws:dynamodb:us-east-1:123456789012:table/hw-a-scores",))]


def test_a_transaction_is_checked_item_by_item_as_the_operation_each_performs():
    found = checks(call("dynamodb", "TransactWriteItems", TransactItems=[
        {"Update": {"TableName": "hw-a-contributions"}}, {"ConditionCheck": {"TableName": "hw-a-scores"}}]))
    assert found == [Check("dynamodb:UpdateItem", ("arn:aws:dynamodb:us-east-1:123456789012:table/hw-a-contributions",)),
                     Check("dynamodb:ConditionCheckItem", ("arn:aws:dynamodb:us-east-1:123456789012:table/hw-a-scores",))]


def test_a_query_on_an_index_is_checked_on_the_index():
    found = checks(call("dynamodb", "Query", TableName="hw-a-scores", IndexName="ScoresByRole"))
    assert found == [Check("dynamodb:Query", ("arn:aws:dynamodb:us-east-1:123456789012:table/hw-a-scores/index/ScoresByRole",))]


def test_get_records_is_checked_on_the_stream_its_iterator_reads():
    iterator = base64.b64encode(b"hw-a-retail-stream:shardId-000000000000:42").decode()
    found = checks(call("kinesis", "GetRecords", ShardIterator=iterator))
    assert found == [Check("kinesis:GetRecords", ("arn:aws:kinesis:us-east-1:123456789012:stream/hw-a-retail-stream",))]


def test_creating_a_function_also_needs_to_pass_its_role():
    role = "arn:aws:iam::123456789012:role/hw-a-winner-consumer-role"
    found = checks(call("lambda", "CreateFunction", FunctionName="hw-a-winner-consumer", Role=role))
    assert found == [Check("lambda:CreateFunction", ("arn:aws:lambda:us-east-1:123456789012:function:hw-a-winner-consumer",)),
                     Check("iam:PassRole", (role,))]


def test_invoke_is_authorized_as_invoke_function_and_mappings_by_uuid():
    assert checks(call("lambda", "Invoke", FunctionName="f"))[0].action == "lambda:InvokeFunction"
    mapping = checks(call("lambda", "DeleteEventSourceMapping", "DELETE", UUID="u-1"))[0]
    assert mapping.resources == ("arn:aws:lambda:us-east-1:123456789012:event-source-mapping:u-1",)
    assert checks(call("lambda", "CreateEventSourceMapping", FunctionName="f"))[0].resources == ("*",)


def test_api_gateway_is_authorized_by_method_on_the_path():
    found = checks(call("apigatewayv2", "DeleteApi", "DELETE", "/v2/apis/abc123"))
    assert found == [Check("apigateway:DELETE", ("arn:aws:apigateway:us-east-1::/apis/abc123",))]


def test_a_log_group_is_granted_by_either_arn_form():
    found = checks(call("logs", "DeleteLogGroup", logGroupName="/aws/lambda/hw-a-winner-api"))
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/hw-a-winner-api"
    assert found == [Check("logs:DeleteLogGroup", (arn, arn + ":*"))]


def test_a_role_is_checked_on_its_arn_even_before_it_exists():
    found = checks(call("iam", "CreateRole", RoleName="hw-a-winner-api-role"))
    assert found == [Check("iam:CreateRole", ("arn:aws:iam::123456789012:role/hw-a-winner-api-role",))]


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40))
def test_any_stream_or_table_name_is_checked_on_that_name_or_refused_never_broader(name):
    for service, key, kind in (("kinesis", "StreamName", "stream"), ("dynamodb", "TableName", "table")):
        try:
            (check,) = checks(call(service, "DescribeThing", **{key: name}))
        except Conflict:
            assert not re.fullmatch(r"[a-zA-Z0-9_.-]+", name) or (kind == "table" and name.startswith("arn:"))
            continue
        expected = name if kind == "table" and name.startswith("arn:") else \
            f"arn:aws:{service}:us-east-1:123456789012:{kind}/{name}"
        assert check.resources == (expected,)


@given(st.sampled_from(["kinesis", "dynamodb", "lambda", "iam", "sts", "logs", "apigatewayv2", "s3"]),
       st.sampled_from(["CreateTable", "ExecuteStatement", "TransactWriteItems", "BatchWriteItem", "ListThings"]))
def test_every_call_needs_at_least_one_permission(service, operation):
    assert checks(call(service, operation, TransactItems=[], RequestItems={}))


def test_a_stream_named_two_ways_that_disagree_is_refused():
    iterator = base64.b64encode(b"hw-b-retail-stream:shardId-000000000000:42").decode()
    own = "arn:aws:kinesis:us-east-1:123456789012:stream/hw-a-retail-stream"
    for params in ({"StreamName": "hw-b-retail-stream", "StreamARN": own}, {"ShardIterator": iterator, "StreamARN": own}):
        with pytest.raises(Conflict):
            checks(call("kinesis", "GetRecords", **params))
    agreed = checks(call("kinesis", "ListShards", StreamName="hw-a-retail-stream", StreamARN=own))
    assert agreed == [Check("kinesis:ListShards", (own,))]


def test_a_transaction_item_that_holds_two_actions_or_none_is_refused():
    for item in ({"Put": {"TableName": "hw-a-scores"}, "Delete": {"TableName": "hw-b-scores"}}, {}):
        with pytest.raises(Conflict):
            checks(call("dynamodb", "TransactWriteItems", TransactItems=[item]))


def test_a_log_group_named_twice_is_refused():
    with pytest.raises(Conflict):
        checks(call("logs", "FilterLogEvents", logGroupName="/aws/lambda/hw-a-winner-api",
                    logGroupIdentifier="/aws/lambda/outside"))
