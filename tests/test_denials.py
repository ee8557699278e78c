"""A participant holding only the room policy, on the embedded AWS: no way to become administrator, and no
stage touching another's. Every attempt is a real boto3 call over HTTP, answered AccessDenied as on AWS, and
the state is read afterwards with the kit's identity: the other stage is whole.

Passing a role to a service other than Lambda is asked of API Gateway, the one other service the embedded
AWS serves that takes a role (an integration's credentials); tests/test_policies.py decides it for every
other service on the room policy itself.
"""

import json

import boto3
import botocore.exceptions
import pytest

from hello_winners import deploy, embedded, naming, targets
from hello_winners.deploy import models, teardown
from hello_winners.embedded import credentials

OWN, VICTIM = "denown", "denvictim"
STAR = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


@pytest.fixture(scope="module")
def stages(embedded_server):
    """Two deployed stages, each by its own participant; torn down by them afterwards."""
    outputs = {stage: deploy.deploy(stage=stage, report=lambda line: None) for stage in (OWN, VICTIM)}
    yield outputs
    for stage in (OWN, VICTIM):
        teardown.teardown(deploy.clients(stage=stage), naming.prefix(stage), stage, report=lambda line: None)


@pytest.fixture(scope="module")
def mine(stages):
    return deploy.clients(stage=OWN)


@pytest.fixture(scope="module")
def kit(embedded_server):
    session = boto3.Session(region_name=embedded.REGION, **vars(credentials.keys(credentials.KIT)))
    return {s: session.client(s, endpoint_url=embedded_server.endpoint) for s in deploy.SERVICES}


def names(stage, clients):
    return deploy.stage_names(targets.settings(stage=stage), clients)


def denied(call):
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        call()
    assert refused.value.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException"), refused.value
    return refused.value.response["Error"]["Message"]


def test_no_role_without_the_boundary_and_no_way_to_remove_or_change_it(mine, kit):
    own = names(OWN, mine)
    iam, tags = mine["iam"], [{"Key": k, "Value": v} for k, v in naming.tags(OWN).items()]
    trust = json.dumps(models.LAMBDA_TRUST)
    extra = own.prefix + "extra-role"
    assert "no identity-based policy allows the iam:CreateRole" in denied(
        lambda: iam.create_role(RoleName=extra, AssumeRolePolicyDocument=trust, Tags=tags))
    admin = f"arn:aws:iam::{own.account}:policy/AdministratorAccess"
    denied(lambda: iam.create_role(RoleName=extra, AssumeRolePolicyDocument=trust, Tags=tags, PermissionsBoundary=admin))
    denied(lambda: iam.create_role(RoleName=extra, AssumeRolePolicyDocument=trust,  # tagged as another's stage
                                   PermissionsBoundary=own.boundary_arn, Tags=[{"Key": naming.STAGE_TAG, "Value": VICTIM}]))
    role = own.role("consumer")
    denied(lambda: iam.delete_role_permissions_boundary(RoleName=role))
    denied(lambda: iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=admin))
    denied(lambda: iam.create_policy_version(PolicyArn=own.boundary_arn, PolicyDocument=STAR, SetAsDefault=True))
    denied(lambda: iam.delete_policy(PolicyArn=own.boundary_arn))
    denied(lambda: iam.attach_role_policy(RoleName=role, PolicyArn=admin))
    denied(lambda: iam.untag_role(RoleName=role, TagKeys=[naming.STAGE_TAG]))
    denied(lambda: iam.tag_role(RoleName=role, Tags=[{"Key": naming.STAGE_TAG, "Value": VICTIM}]))
    assert kit["iam"].get_role(RoleName=role)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == own.boundary_arn
    assert not any(r["RoleName"] == extra for r in kit["iam"].list_roles()["Roles"])


def test_star_on_a_role_of_ones_own_is_denied_without_the_boundary_and_worthless_with_it(mine, kit):
    """AWS has no condition on what an inline policy says: on a role with the boundary, PutRolePolicy with '*'
    is allowed, as on AWS, and the role still does nothing beyond the boundary. On a role without it (one made
    before the room was, here by the instructor), PutRolePolicy is denied."""
    own, victim = names(OWN, mine), names(VICTIM, mine)
    legacy = own.prefix + "legacy-role"
    kit["iam"].create_role(RoleName=legacy, AssumeRolePolicyDocument=json.dumps(models.LAMBDA_TRUST),
                           Tags=[{"Key": k, "Value": v} for k, v in naming.tags(OWN).items()])
    try:
        denied(lambda: mine["iam"].put_role_policy(RoleName=legacy, PolicyName="all", PolicyDocument=STAR))
    finally:
        kit["iam"].delete_role(RoleName=legacy)
    role = own.role("api")
    mine["iam"].put_role_policy(RoleName=role, PolicyName="all", PolicyDocument=STAR)
    try:
        granted = kit["sts"].assume_role(RoleArn=own.role_arn("api"), RoleSessionName="escalate")["Credentials"]
        session = boto3.Session(region_name=embedded.REGION, aws_access_key_id=granted["AccessKeyId"],
                                aws_secret_access_key=granted["SecretAccessKey"], aws_session_token=granted["SessionToken"])
        as_role = {s: session.client(s, endpoint_url=mine["iam"].meta.endpoint_url) for s in ("dynamodb", "iam", "kinesis")}
        assert "permissions boundary" in denied(lambda: as_role["iam"].create_user(UserName="mallory"))
        denied(lambda: as_role["dynamodb"].delete_table(TableName=own.tables["TABLE_SCORES_NAME"]))
        denied(lambda: as_role["dynamodb"].update_item(
            TableName=victim.tables["TABLE_SCORES_NAME"], Key={"userId": {"S": "x"}, "role": {"S": "merchant"}},
            UpdateExpression="SET score = :s", ExpressionAttributeValues={":s": {"N": "1"}}))
        denied(lambda: as_role["kinesis"].delete_stream(StreamName=own.stream))
        as_role["dynamodb"].get_item(TableName=own.tables["TABLE_CONTRIBUTIONS_NAME"], Key={"productId": {"S": "p"}})
    finally:
        mine["iam"].delete_role_policy(RoleName=role, PolicyName="all")


def test_a_role_of_ones_own_is_passed_to_lambda_only_never_to_api_gateway(mine, kit):
    """An HTTP API made by quick create may carry credentials, a role API Gateway assumes to call the target:
    iam:PassRole to apigateway.amazonaws.com, which the room policy allows for no role. Without them, the
    same call is the participant's to make."""
    own, api = names(OWN, mine), mine["apigatewayv2"]
    made = {"Name": own.prefix + "passed", "ProtocolType": "HTTP", "Target": own.function_arn("api"),
            "Tags": naming.tags(OWN)}
    message = denied(lambda: api.create_api(CredentialsArn=own.role_arn("api"), **made))
    assert "iam:PassRole" in message and own.role_arn("api") in message
    assert not [a for a in kit["apigatewayv2"].get_apis()["Items"] if a["Name"] == made["Name"]]
    api.delete_api(ApiId=api.create_api(**made)["ApiId"])


def test_nothing_of_another_stage_may_be_deleted_or_changed(stages, mine, kit):
    victim = names(VICTIM, mine)
    before = {
        "api": kit["apigatewayv2"].get_api(ApiId=stages[VICTIM].api_id),
        "mapping": kit["lambda"].get_event_source_mapping(UUID=stages[VICTIM].mapping_uuid)["BatchSize"],
        "code": kit["lambda"].get_function(FunctionName=victim.function("consumer"))["Configuration"]["CodeSha256"],
        "policy": kit["iam"].get_role_policy(RoleName=victim.role("consumer"), PolicyName="consumer-access")[
            "PolicyDocument"],
    }
    apis, lam, iam = mine["apigatewayv2"], mine["lambda"], mine["iam"]
    denied(lambda: apis.delete_api(ApiId=stages[VICTIM].api_id))
    denied(lambda: apis.update_api(ApiId=stages[VICTIM].api_id, Name="taken"))
    denied(lambda: apis.create_route(ApiId=stages[VICTIM].api_id, RouteKey="GET /x", Target="integrations/x"))
    denied(lambda: apis.create_api(Name="mine", ProtocolType="HTTP", Tags=naming.tags(VICTIM)))
    denied(lambda: lam.delete_event_source_mapping(UUID=stages[VICTIM].mapping_uuid))
    denied(lambda: lam.update_event_source_mapping(UUID=stages[VICTIM].mapping_uuid, BatchSize=1))
    # One's own mapping may not be moved onto another stage's function either.
    denied(lambda: lam.update_event_source_mapping(UUID=stages[OWN].mapping_uuid,
                                                   FunctionName=victim.function("consumer")))
    denied(lambda: lam.create_event_source_mapping(FunctionName=victim.function("consumer"),
                                                   EventSourceArn=names(OWN, mine).stream_arn,
                                                   StartingPosition="TRIM_HORIZON"))
    for call in (lambda: lam.delete_function(FunctionName=victim.function("api")),
                 lambda: lam.update_function_code(FunctionName=victim.function("consumer"), ZipFile=b"PK\x05\x06" + b"\0" * 18),
                 lambda: lam.update_function_configuration(FunctionName=victim.function("api"), Timeout=3),
                 lambda: lam.update_function_configuration(FunctionName=names(OWN, mine).function("api"),
                                                           Role=victim.role_arn("api")),  # passing their role
                 lambda: mine["dynamodb"].delete_table(TableName=victim.tables["TABLE_SCORES_NAME"]),
                 lambda: mine["dynamodb"].update_item(
                     TableName=victim.tables["TABLE_SCORES_NAME"], Key={"userId": {"S": "x"}, "role": {"S": "merchant"}},
                     UpdateExpression="SET score = :s", ExpressionAttributeValues={":s": {"N": "99"}}),
                 lambda: mine["kinesis"].delete_stream(StreamName=victim.stream),
                 lambda: mine["kinesis"].put_record(StreamName=victim.stream, Data=b"x", PartitionKey="p"),
                 lambda: iam.delete_role(RoleName=victim.role("api")),
                 lambda: iam.put_role_policy(RoleName=victim.role("consumer"), PolicyName="all", PolicyDocument=STAR),
                 lambda: iam.delete_role_policy(RoleName=victim.role("consumer"), PolicyName="consumer-access"),
                 lambda: mine["sqs"].delete_queue(QueueUrl=kit["sqs"].get_queue_url(QueueName=victim.queue)["QueueUrl"]),
                 lambda: mine["logs"].delete_log_group(logGroupName=victim.log_group("api"))):
        denied(call)
    assert kit["apigatewayv2"].get_api(ApiId=stages[VICTIM].api_id)["Name"] == before["api"]["Name"]
    assert kit["lambda"].get_event_source_mapping(UUID=stages[VICTIM].mapping_uuid)["BatchSize"] == before["mapping"]
    assert kit["lambda"].get_function(FunctionName=victim.function("consumer"))["Configuration"]["CodeSha256"] == \
        before["code"]
    assert kit["iam"].get_role_policy(RoleName=victim.role("consumer"), PolicyName="consumer-access")[
        "PolicyDocument"] == before["policy"]
    assert victim.stream in kit["kinesis"].list_streams()["StreamNames"]
    assert victim.tables["TABLE_SCORES_NAME"] in kit["dynamodb"].list_tables()["TableNames"]


def test_teardown_detaches_what_an_instructor_attached_and_removes_the_whole_stage(mine, kit):
    """Last in this module: it tears the participant's own stage down, as the participant."""
    own = names(OWN, mine)
    arn = kit["iam"].create_policy(PolicyName="hello-winners-extra", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:GetLogEvents", "Resource": "*"}]}))[
        "Policy"]["Arn"]
    kit["iam"].attach_role_policy(RoleName=own.role("consumer"), PolicyArn=arn)
    try:
        removed = teardown.teardown(mine, own.prefix, OWN, report=lambda line: None)
        assert {f.kind for f in removed} >= {"role", "function", "queue", "HTTP API"}
        assert not [r for r in kit["iam"].list_roles()["Roles"] if r["RoleName"].startswith(own.prefix)]
    finally:
        kit["iam"].delete_policy(PolicyArn=arn)
