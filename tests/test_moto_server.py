"""The embedded server's own changes to moto answer exactly as moto does."""

import io
import json
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.core.serialize import XFormedAttributePicker

from properties import examples

from hello_winners.embedded import serializer_keys, update_expressions

# What the consumer sends, and what could go wrong with a shared tree: nested paths, functions, several
# clauses, names and values by placeholder, and expressions moto refuses.
EXPRESSIONS = [
    "SET #s = if_not_exists(#s, :zero) + :n",
    "ADD #s :n",
    "SET #s = :n REMOVE #t",
    "SET #t = list_append(if_not_exists(#t, :empty), :list)",
    "SET #m.#s = :n",
    "SET #s = #s - :n",
    "REMOVE #t, #m.#s",
    "SET #s = :n, #s = :n",  # two paths overlap: refused
    "SET #s = ",  # a syntax error: refused
]
NAMES = {"#s": "score", "#t": "trail", "#m": "map"}


def answers(dynamodb, table, steps):
    """What DynamoDB answers to each UpdateItem of ``steps`` on a new ``table``, then the table's items."""
    dynamodb.create_table(TableName=table, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
    said = []
    for expression, n, key in steps:
        values = {":zero": {"N": "0"}, ":n": {"N": str(n)}, ":empty": {"L": []}, ":list": {"L": [{"N": str(n)}]}}
        used_names = {name: attribute for name, attribute in NAMES.items() if name in expression}
        used_values = {name: value for name, value in values.items() if name in expression}
        request = {"TableName": table, "Key": {"k": {"S": key}}, "UpdateExpression": expression,
                   "ReturnValues": "ALL_NEW", **({"ExpressionAttributeNames": used_names} if used_names else {}),
                   **({"ExpressionAttributeValues": used_values} if used_values else {})}
        try:
            said.append(dynamodb.update_item(**request).get("Attributes"))
        except ClientError as error:
            said.append(error.response["Error"])
    items = sorted(dynamodb.scan(TableName=table)["Items"], key=lambda item: item["k"]["S"])
    return said, items


@pytest.fixture(scope="module")
def dynamodb():
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


@pytest.mark.slow
@settings(max_examples=examples(10), deadline=None)
@given(st.lists(st.tuples(st.sampled_from(EXPRESSIONS), st.integers(-3, 3), st.sampled_from(["a", "b"])),
                min_size=1, max_size=10))
def test_parsing_each_update_expression_once_and_remembering_member_names_changes_no_answer(dynamodb, steps):
    fresh = answers(dynamodb, "fresh", steps)
    undo = [update_expressions.install(), serializer_keys.install()]
    try:
        remembered = answers(dynamodb, "remembered", steps)
        remembered_again = answers(dynamodb, "again", steps)  # every tree already parsed, by the run above
    finally:
        for step in undo:
            step()
        for table in ("fresh", "remembered", "again"):
            dynamodb.delete_table(TableName=table)
    assert remembered == fresh and remembered_again == fresh


def kits_answers(region, tag):
    """One of each answer the kit's code and lessons ask the embedded AWS for, service by service; ``tag`` ends
    each name, so that the answers are made again whatever the account already holds."""
    clients = {name: boto3.client(name, region_name=region)
               for name in ("sts", "iam", "kinesis", "dynamodb", "lambda", "apigatewayv2")}
    clients["sts"].get_caller_identity()
    role = clients["iam"].create_role(RoleName=f"r{tag}", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]
    clients["iam"].put_role_policy(RoleName=f"r{tag}", PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    clients["iam"].get_role(RoleName=f"r{tag}")
    clients["iam"].get_role_policy(RoleName=f"r{tag}", PolicyName="p")
    clients["kinesis"].create_stream(StreamName=f"s{tag}", ShardCount=2)
    stream = clients["kinesis"].describe_stream_summary(StreamName=f"s{tag}")["StreamDescriptionSummary"]["StreamARN"]
    clients["kinesis"].put_records(StreamName=f"s{tag}",
                                   Records=[{"Data": b"x", "PartitionKey": str(i)} for i in range(4)])
    for shard in clients["kinesis"].list_shards(StreamName=f"s{tag}")["Shards"]:
        iterator = clients["kinesis"].get_shard_iterator(StreamName=f"s{tag}", ShardId=shard["ShardId"],
                                                         ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        clients["kinesis"].get_records(ShardIterator=iterator)
    dynamodb = clients["dynamodb"]
    dynamodb.create_table(TableName=f"t{tag}", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
    dynamodb.describe_table(TableName=f"t{tag}")
    dynamodb.batch_write_item(RequestItems={f"t{tag}": [{"PutRequest": {"Item": {"k": {"S": "a"}, "n": {"N": "1"}}}}]})
    dynamodb.update_item(TableName=f"t{tag}", Key={"k": {"S": "a"}}, UpdateExpression="ADD n :d SET m = :m",
                         ExpressionAttributeValues={":d": {"N": "1"}, ":m": {"M": {"l": {"L": [{"S": "x"}]}}}},
                         ReturnValues="ALL_NEW", ReturnConsumedCapacity="TOTAL")
    dynamodb.batch_get_item(RequestItems={f"t{tag}": {"Keys": [{"k": {"S": "a"}}]}}, ReturnConsumedCapacity="TOTAL")
    dynamodb.query(TableName=f"t{tag}", KeyConditionExpression="k = :k", ExpressionAttributeValues={":k": {"S": "a"}})
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    function = clients["lambda"].create_function(FunctionName=f"f{tag}", Runtime="python3.12", Role=role["Arn"],
                                                 Handler="handler.handler", Code={"ZipFile": code.getvalue()},
                                                 Environment={"Variables": {"A": "1"}})["FunctionArn"]
    clients["lambda"].get_function(FunctionName=f"f{tag}")
    clients["lambda"].list_functions()
    clients["lambda"].create_event_source_mapping(FunctionName=f"f{tag}", EventSourceArn=stream,
                                                  StartingPosition="TRIM_HORIZON", BatchSize=100)
    clients["lambda"].list_event_source_mappings(FunctionName=f"f{tag}")
    clients["lambda"].add_permission(FunctionName=f"f{tag}", StatementId="api", Action="lambda:InvokeFunction",
                                     Principal="apigateway.amazonaws.com")
    apis = clients["apigatewayv2"]
    api = apis.create_api(Name=f"a{tag}", ProtocolType="HTTP")["ApiId"]
    integration = apis.create_integration(ApiId=api, IntegrationType="AWS_PROXY", IntegrationUri=function,
                                          PayloadFormatVersion="2.0")["IntegrationId"]
    apis.create_route(ApiId=api, RouteKey="$default", Target=f"integrations/{integration}")
    apis.create_stage(ApiId=api, StageName="$default", AutoDeploy=True)
    apis.get_apis()
    apis.get_integrations(ApiId=api)


def test_remembered_member_names_are_the_ones_moto_works_out_for_each_answer_of_the_kit(monkeypatch):
    """Each time the remembered names are used, for an object the serializer has not seen, moto's own agree."""
    original = XFormedAttributePicker.__dict__["get_possible_keys"]
    remembered = serializer_keys.remembering(original)
    agreed = []

    def compared(picker, context):
        names = remembered(picker, context)
        agreed.append(tuple(names) == tuple(original(picker, context)))
        return names

    monkeypatch.setattr(XFormedAttributePicker, "get_possible_keys", compared)
    with mock_aws():
        for tag, region in enumerate(("us-east-1", "eu-west-1")):  # the second pass reuses what the first remembered
            kits_answers(region, tag)
    assert len(agreed) > 300 and all(agreed)
