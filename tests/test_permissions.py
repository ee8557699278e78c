"""Every permission a call needs is enforced, not only the first: a call that needs two is refused when
either is missing, and nothing changes. Over real HTTP, signed as the participant and the function roles.

The calls that need more than one: CreateFunction and UpdateFunctionConfiguration also pass a role
(iam:PassRole); a batch needs its action on each of its tables, a transaction each item's action on its
table; an event source mapping needs its function's role to read the stream, with every read action
Lambda uses, when it is made and when it is moved to another function.
"""

import io
import json
import zipfile

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

import world
from hello_winners import embedded
from hello_winners.deploy import models
from hello_winners.view import tables

OUTSIDE_ROLE = "perm-outside-role"
# Functions (and their roles) in the own stage's namespace, where the participant may map a stream to them:
# the mapper's role reads what a test sets; the other's role reads nothing.
MAPPER, UNREADING = "perm-mapper", "perm-unreading"
STREAM_READS = ("kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:ListShards")


@pytest.fixture(scope="module")
def probe(embedded_server):
    return world.build(embedded_server.endpoint)


def as_identity(probe, who, service):
    identity = probe.identities[who]
    return boto3.client(service, endpoint_url=probe.endpoint, region_name=embedded.REGION,
                        aws_access_key_id=identity.access_key, aws_secret_access_key=identity.secret_key,
                        aws_session_token=identity.token, config=botocore.config.Config(retries={"max_attempts": 1}))


def refused(call, action):
    """``call`` is refused for lacking ``action``; its error's message."""
    with pytest.raises(ClientError) as error:
        call()
    answer = error.value.response["Error"]
    assert answer["Code"] in ("AccessDeniedException", "AccessDenied"), answer
    assert f"not authorized to perform: {action} " in answer["Message"], answer
    return answer["Message"]


def code():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return archive.getvalue()


def lambda_role(probe, name):
    try:
        return probe.kit["iam"].create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(models.LAMBDA_TRUST)
                                            )["Role"]["Arn"]
    except probe.kit["iam"].exceptions.EntityAlreadyExistsException:
        return probe.kit["iam"].get_role(RoleName=name)["Role"]["Arn"]


@pytest.fixture(scope="module")
def outside_role(probe):
    """A role Lambda may assume that belongs to no stage: no participant may pass it."""
    return lambda_role(probe, OUTSIDE_ROLE)


def test_creating_a_function_needs_to_pass_its_role_too(probe, outside_role):
    lam = as_identity(probe, "participant", "lambda")
    name = probe.own.prefix + "permnew-winner-api"  # a name the participant may create a function under
    refused(lambda: lam.create_function(FunctionName=name, Runtime=models.RUNTIME, Role=outside_role,
                                        Handler="handler.handler", Code={"ZipFile": code()}), "iam:PassRole")
    assert name not in [f["FunctionName"] for f in probe.kit["lambda"].list_functions()["Functions"]]


def test_reconfiguring_a_function_needs_to_pass_its_new_role_too(probe, outside_role):
    lam = as_identity(probe, "participant", "lambda")
    function = probe.own.function("api")
    refused(lambda: lam.update_function_configuration(FunctionName=function, Role=outside_role), "iam:PassRole")
    assert probe.kit["lambda"].get_function_configuration(FunctionName=function)["Role"] == probe.own.role_arn("api")
    lam.update_function_configuration(FunctionName=function, Role=probe.own.role_arn("api"))  # its own: allowed


def rejects_item(event_id):
    return {"PutRequest": {"Item": {"eventId": {"S": event_id}, "reason": {"S": "planted"}}}}


def holds(probe, table, key):
    return "Item" in probe.kit["dynamodb"].get_item(TableName=table, Key=key)


@pytest.fixture(scope="module")
def before_hw(probe):
    """A table outside the kit whose name sorts before every stage's: a batch checks it first."""
    name = "aaa-perm-outside"
    if name not in probe.kit["dynamodb"].list_tables()["TableNames"]:
        probe.kit["dynamodb"].create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}])
    return name


@pytest.mark.parametrize("who, forbidden_first", [("consumer", False), ("participant", True)])
def test_a_batch_write_needs_its_action_on_every_one_of_its_tables(probe, before_hw, who, forbidden_first):
    allowed = probe.own.tables[tables.REJECTS]
    forbidden = before_hw if forbidden_first else probe.victim.tables[tables.REJECTS]
    assert (sorted([allowed, forbidden])[0] == forbidden) is forbidden_first  # checks go by table name
    dynamodb = as_identity(probe, who, "dynamodb")
    refused(lambda: dynamodb.batch_write_item(RequestItems={
        allowed: [rejects_item(f"perm-{who}")], forbidden: [rejects_item(f"perm-{who}")]}), "dynamodb:BatchWriteItem")
    for table in (allowed, forbidden):
        assert not holds(probe, table, {"eventId": {"S": f"perm-{who}"}})


def score_key(user):
    return {"userId": {"S": user}, "role": {"S": "merchant"}}


def test_a_batch_read_needs_its_action_on_every_one_of_its_tables(probe):
    victim_scores = probe.victim.tables[tables.SCORES]
    probe.kit["dynamodb"].put_item(TableName=victim_scores, Item={**score_key("perm-secret"), "score": {"N": "5"},
                                                                  "name": {"S": "SECRET-perm"}})
    dynamodb = as_identity(probe, "consumer", "dynamodb")
    message = refused(lambda: dynamodb.batch_get_item(RequestItems={
        probe.own.tables[tables.SCORES]: {"Keys": [score_key("perm-secret")]},
        victim_scores: {"Keys": [score_key("perm-secret")]}}), "dynamodb:BatchGetItem")
    assert "SECRET-perm" not in message


def test_a_transaction_needs_each_items_action_on_each_items_table(probe):
    own, victim = probe.own.tables[tables.SCORES], probe.victim.tables[tables.SCORES]
    probe.kit["dynamodb"].put_item(TableName=victim, Item={**score_key("perm-tx"), "score": {"N": "5"}})
    dynamodb = as_identity(probe, "consumer", "dynamodb")

    def update(table):
        return {"Update": {"TableName": table, "Key": score_key("perm-tx"), "UpdateExpression": "SET score = :s",
                           "ExpressionAttributeValues": {":s": {"N": "999999"}}}}

    refused(lambda: dynamodb.transact_write_items(TransactItems=[update(own), update(victim)]), "dynamodb:UpdateItem")
    assert probe.kit["dynamodb"].get_item(TableName=victim, Key=score_key("perm-tx"))["Item"]["score"] == {"N": "5"}
    assert not holds(probe, own, score_key("perm-tx"))
    refused(lambda: dynamodb.transact_get_items(TransactItems=[
        {"Get": {"TableName": own, "Key": score_key("perm-tx")}},
        {"Get": {"TableName": victim, "Key": score_key("perm-tx")}}]), "dynamodb:GetItem")


def own_function(probe, name):
    """A function of the own stage's namespace with a role of its own (made by the kit), its full name."""
    full = probe.own.prefix + name
    role = lambda_role(probe, f"{full}-role")
    try:
        world._until_assumable(lambda: probe.kit["lambda"].create_function(
            FunctionName=full, Runtime=models.RUNTIME, Role=role, Handler="handler.handler", Code={"ZipFile": code()}))
    except probe.kit["lambda"].exceptions.ResourceConflictException:
        pass
    return full


@pytest.fixture(scope="module")
def mapper(probe):
    """A function of the own stage whose role's reads of the own stage's stream a test sets."""
    return own_function(probe, MAPPER)


@pytest.fixture(scope="module")
def unreading(probe):
    """A function of the own stage whose role may not read the stream."""
    return own_function(probe, UNREADING)


def reads(probe, actions):
    """Let the mapper's role read the own stage's stream with ``actions`` only."""
    probe.kit["iam"].put_role_policy(RoleName=f"{probe.own.prefix}{MAPPER}-role", PolicyName="reads", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions),
                                                 "Resource": [probe.own.stream_arn]}]}))


def mappings_of(probe, function):
    return probe.kit["lambda"].list_event_source_mappings(FunctionName=function)["EventSourceMappings"]


@pytest.mark.parametrize("missing", STREAM_READS)
def test_a_mapping_needs_its_functions_role_to_read_the_stream_with_every_action(probe, mapper, missing):
    reads(probe, [action for action in STREAM_READS if action != missing] + ["kinesis:DescribeStreamSummary"])
    lam = as_identity(probe, "participant", "lambda")
    with pytest.raises(ClientError, match="Cannot access stream"):
        lam.create_event_source_mapping(FunctionName=mapper, EventSourceArn=probe.own.stream_arn,
                                        StartingPosition="TRIM_HORIZON", Enabled=False)
    assert mappings_of(probe, mapper) == []


def test_a_mapping_moved_to_a_function_whose_role_cannot_read_its_stream_is_refused(probe, mapper, unreading):
    reads(probe, STREAM_READS)
    lam = as_identity(probe, "participant", "lambda")
    made = lam.create_event_source_mapping(FunctionName=mapper, EventSourceArn=probe.own.stream_arn,
                                           StartingPosition="TRIM_HORIZON", Enabled=False)["UUID"]
    try:
        with pytest.raises(ClientError, match="Cannot access stream"):
            lam.update_event_source_mapping(UUID=made, FunctionName=unreading)
        assert probe.kit["lambda"].get_event_source_mapping(UUID=made)["FunctionArn"].endswith(f":{mapper}")
    finally:
        probe.kit["lambda"].delete_event_source_mapping(UUID=made)
