"""Two stages on the embedded AWS, made by the kit's identity, and every identity that may act on them.

``own`` is the stage whose participant and roles sign; ``victim`` is another stage, whose resources
neither may touch. The participant is the room's user of ``own`` (holding the room policy), so what it
may change is whatever is named in its namespace, ``hw-<own>-*``: a rule stated without the kit's policy
evaluation. Each role is held to one policy document, which :func:`allowed` evaluates as IAM does (moto's
own policy evaluation), so a test can tell from the server's state what may have changed.
"""

from __future__ import annotations

import dataclasses
import io
import json
import time
import zipfile

import boto3
import botocore.exceptions
from moto.iam.access_control import IAMPolicy, PermissionResult

from hello_winners import embedded
from hello_winners.deploy import models, policies
from hello_winners.deploy.names import Names
from hello_winners.embedded import credentials, participants
from hello_winners.view import tables

from signed import Identity

KINDS = ("consumer", "api")


@dataclasses.dataclass
class World:
    endpoint: str
    account: str
    own: Names
    victim: Names
    identities: dict  # name: Identity
    documents: dict   # name: the policy document each role is held to
    kit: dict         # boto3 clients signed by the kit, to read the state afterwards

    def names(self, stage: str) -> Names:
        return self.own if stage == "own" else self.victim

    def may_change(self, identity: str, arn: str, name: str, actions: tuple[str, ...]) -> bool:
        """Whether ``identity`` may change the resource ``arn`` (named ``name``: a mapping by its function's,
        a log group without /aws/lambda/) with one of ``actions``: the participant, what is named in its
        namespace; a role, what its document allows."""
        if identity == "participant":
            return name.startswith(self.own.prefix)
        service = arn.split(":")[2]
        return any(allowed(self.documents[identity], f"{service}:{action}", resource)
                   for action in actions for resource in (arn, arn + ":*"))


def kit_clients(endpoint: str) -> dict:
    keys = credentials.keys(credentials.KIT)
    return {service: boto3.client(service, endpoint_url=endpoint, region_name=embedded.REGION, **vars(keys))
            for service in ("sts", "iam", "kinesis", "dynamodb", "lambda", "logs", "apigatewayv2")}


def build(endpoint: str, own_stage: str = "bindown", victim_stage: str = "bindvictim") -> World:
    """Create both stages' streams, tables, roles, functions and log groups, and the identities' keys."""
    kit = kit_clients(endpoint)
    account = kit["sts"].get_caller_identity()["Account"]
    own, victim = (Names(f"hw-{stage}-", embedded.REGION, account) for stage in (own_stage, victim_stage))
    for names in (own, victim):
        _stage(kit, names)
    keys = credentials.participant_keys(participants.ensure(endpoint, embedded.REGION, own_stage))
    identities = {"participant": Identity.of("participant", keys)}
    documents = {}
    for kind in KINDS:
        granted = _assume(kit["sts"], own.role_arn(kind))
        identities[kind] = Identity(kind, granted["AccessKeyId"], granted["SecretAccessKey"], granted["SessionToken"])
        documents[kind] = getattr(policies, kind)(own)
    return World(endpoint, account, own, victim, identities, documents, kit)


def _stage(kit, names):
    if names.stream not in kit["kinesis"].list_streams()["StreamNames"]:
        kit["kinesis"].create_stream(StreamName=names.stream, ShardCount=1)
    tables.create(kit["dynamodb"], names.prefix)
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    for kind in KINDS:
        try:
            kit["iam"].create_role(RoleName=names.role(kind), AssumeRolePolicyDocument=json.dumps(models.LAMBDA_TRUST))
        except kit["iam"].exceptions.EntityAlreadyExistsException:
            pass
        kit["iam"].put_role_policy(RoleName=names.role(kind), PolicyName="policy",
                                   PolicyDocument=json.dumps(getattr(policies, kind)(names)))
        try:
            kit["logs"].create_log_group(logGroupName=names.log_group(kind))
        except kit["logs"].exceptions.ResourceAlreadyExistsException:
            pass
    for kind in KINDS:
        _until_assumable(lambda kind=kind: kit["lambda"].create_function(
            FunctionName=names.function(kind), Runtime=models.RUNTIME, Role=names.role_arn(kind),
            Handler="handler.handler", Code={"ZipFile": code.getvalue()}))


def _until_assumable(create):
    for _ in range(100):
        try:
            return create()
        except botocore.exceptions.ClientError as error:
            if "ResourceConflictException" in str(error):
                return None
            if "cannot be assumed" not in str(error):
                raise
            time.sleep(0.2)
    raise AssertionError("the role never became assumable")


def _assume(sts, role_arn):
    return sts.assume_role(RoleArn=role_arn, RoleSessionName="probe")["Credentials"]


def allowed(document: dict, action: str, resource: str) -> bool:
    """Whether ``document`` allows ``action`` on ``resource``, by moto's evaluation of IAM policies."""
    return IAMPolicy(json.dumps(document)).is_action_permitted(action, resource) == PermissionResult.PERMITTED
