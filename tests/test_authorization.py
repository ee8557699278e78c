"""What the embedded AWS asks IAM for each call: the action and the resource AWS's reference names."""

import base64

from hypothesis import given
from hypothesis import strategies as st

from hello_winners.embedded.authorization import Call, Check, checks


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
def test_any_stream_or_table_name_is_checked_on_that_name_and_nothing_broader(name):
    for service, key, kind in (("kinesis", "StreamName", "stream"), ("dynamodb", "TableName", "table")):
        (check,) = checks(call(service, "DescribeThing", **{key: name}))
        assert check.resources == (f"arn:aws:{service}:us-east-1:123456789012:{kind}/{name}",)
