"""The kit's IAM policies: linted as AWS would, within IAM's size quotas, and no stage reaching another's.

The room policy is evaluated here by the embedded AWS's decision (hello_winners.embedded.authorization),
as IAM evaluates it, on every action it grants and the resources the kit names: what a participant may do
to their own stage and its -play stage, and what they may never do to any other.
"""

import json
import re

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lint
from hello_winners import cli, naming
from hello_winners.deploy import policies
from hello_winners.deploy.names import Names
from hello_winners.embedded.authorization import Check, Principal, decide
from hello_winners.view import tables

ACCOUNT = "123456789012"
REGION = "eu-west-1"
# At least this many characters of IAM's managed-policy quota stay free, whatever the stage and the region.
SPARE = 600


def every_region():
    """(region, partition) of every region the kit knows: botocore's, in every partition."""
    session = boto3.session.Session()
    return [(region, partition) for partition in session.get_available_partitions()
            for region in session.get_available_regions("ec2", partition)]


def every_policy():
    names = Names("hw-alice-", REGION, ACCOUNT)
    return {
        "room": policies.room(REGION, ACCOUNT),
        "room, any region and account": policies.room(),
        "room for one stage": policies.room(REGION, ACCOUNT, stage="alice"),
        "room in aws-us-gov": policies.room("us-gov-west-1", ACCOUNT, "aws-us-gov"),
        "boundary": policies.boundary(ACCOUNT),
        "consumer's role": policies.consumer(names),
        "api's role": policies.api(names),
    }


@pytest.mark.parametrize("name, document", every_policy().items(), ids=list(every_policy()))
def test_every_policy_the_kit_prints_or_creates_lints_clean(name, document):
    assert lint.findings(document) == []


def test_the_linter_would_see_what_aws_refuses():
    """The lint is not vacuous: an action AWS does not have, a resource of the wrong type, an unknown key."""
    wrong = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kinesis:GetRecord", "Resource": "*"},
        {"Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*"},
        {"Effect": "Allow", "Action": "lambda:DeleteFunction", "Resource": "*",
         "Condition": {"StringEquals": {"lambda:NoSuchKey": "x"}}}]}
    found = "\n".join(lint.findings(wrong))
    assert "UNKNOWN_ACTION" in found and "RESOURCE_MISMATCH" in found and "UNKNOWN_CONDITION_FOR_ACTION" in found


def test_the_room_policy_and_the_boundary_fit_a_managed_policy_with_room_to_spare_in_every_region():
    for region, partition in every_region():
        for document in (policies.room(region, ACCOUNT, partition), policies.boundary(ACCOUNT, partition)):
            assert policies.size(document) <= policies.MANAGED_LIMIT - SPARE, (region, policies.size(document))


def test_the_room_policy_for_any_stage_the_kit_accepts_fits_in_every_region():
    """A stage's policy grows with its name and its region's: every length the kit accepts (1 to 40), in the
    longest region of each partition."""
    assert naming.STAGE_MAX == 40
    longest = {}
    for region, partition in every_region():
        longest[partition] = max(longest.get(partition, ""), region, key=len)
    for length in range(1, naming.STAGE_MAX + 1):
        stage = ("a" + "b-c9" * 20)[:length]
        stage = stage[:-1] + "x" if stage.endswith("-") else stage
        for partition, region in longest.items():
            size = policies.size(policies.room(region, ACCOUNT, partition, stage=stage))
            assert size <= policies.MANAGED_LIMIT - SPARE, (stage, region, size)


def test_the_size_is_what_iam_counts_and_the_tightest_quota_is_named():
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    assert policies.size(document) == len(json.dumps(document, separators=(",", ":")))
    assert policies.tightest_limit(document) == ("an inline policy of a user", 2_048)
    assert policies.tightest_limit({**document, "Statement": document["Statement"] * 100}) == ("a managed policy", 6_144)
    assert policies.tightest_limit({**document, "Statement": document["Statement"] * 150})[1] == 10_240
    assert policies.tightest_limit({**document, "Statement": document["Statement"] * 200}) is None


def test_policy_prints_the_room_policy_and_says_which_quota_it_fits(capsys):
    assert cli.main(["policy", "--region", REGION, "--account", ACCOUNT]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == policies.room(REGION, ACCOUNT)
    size = policies.size(policies.room(REGION, ACCOUNT))
    assert err.startswith(f"the room policy: {size:,} characters without whitespace")
    assert f"as a managed policy (6,144) {6_144 - size:,} to spare" in err
    assert cli.main(["policy", "--stage", "alice"]) == 0
    assert json.loads(capsys.readouterr().out) == policies.room(stage="alice")
    assert cli.main(["policy", "--boundary", "--account", ACCOUNT]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == policies.boundary(ACCOUNT) and "the permissions boundary" in err


def test_every_statement_is_the_participants_own_or_read_only_or_scoped_by_a_documented_condition():
    """What AWS cannot scope to the namespace is listed in UNSCOPED and changes nothing."""
    for statement in policies.room(REGION, ACCOUNT)["Statement"]:
        resources = statement["Resource"]
        own = all(f"hw-{policies.STAGE_VARIABLE}-*" in r or r.endswith(f":policy/{policies.BOUNDARY_POLICY}")
                  for r in resources)
        conditioned = bool(statement.get("Condition"))
        unscoped = {a for actions in policies.UNSCOPED.values() for a in actions}
        assert own or conditioned or set(statement["Action"]) <= unscoped, statement
        if not own and not conditioned:
            assert all(re.search(r":(List|Describe)|apigateway:GET", a) for a in statement["Action"]), statement


# --- the room policy, evaluated ---------------------------------------------------------------------

def resources(stage):
    """(service, ARN) of everything the kit makes in ``stage``, and its tables' index and a sandbox's table."""
    names = Names(naming.prefix(stage), REGION, ACCOUNT)
    found = [("kinesis", names.stream_arn), ("sqs", names.queue_arn)]
    found += [("dynamodb", names.table_arn(variable)) for variable in names.tables]
    found += [("dynamodb", f"{names.table_arn(tables.SCORES)}/index/{tables.SCORES_INDEX}"),
              ("dynamodb", names.arn("dynamodb", f"table/{naming.sandbox_prefix(names.prefix, 'naive')}scores"))]
    for kind in naming.FUNCTION_KINDS:
        found += [("lambda", names.function_arn(kind)), ("iam", names.role_arn(kind)),
                  ("logs", names.log_group_arn(kind))]
    return found


ROOM = policies.room(REGION, ACCOUNT)
BOUNDARY = Names("", REGION, ACCOUNT).boundary_arn


def participant(stage):
    return Principal(f"arn:aws:iam::{ACCOUNT}:user/hello-winners/{stage}", (ROOM,), {naming.STAGE_TAG: stage})


def room_actions(service):
    """Every action the room policy grants on a stage's resources of ``service``."""
    return sorted({action for statement in ROOM["Statement"] for action in statement["Action"]
                   if action.startswith(service + ":") and any("hw-" in r for r in statement["Resource"])
                   and action not in ("lambda:CreateEventSourceMapping", *policies.MAPPING_ACTIONS)})


def context(aimed_at, tag):
    """The condition keys of a request on ``aimed_at``'s resources, with ``tag`` where the caller chooses."""
    function = Names(naming.prefix(aimed_at), REGION, ACCOUNT).function_arn("consumer")
    return {"iam:permissionsboundary": (BOUNDARY,), f"aws:requesttag/{naming.STAGE_TAG}": (tag,),
            "aws:tagkeys": (naming.STAGE_TAG,), "iam:passedtoservice": ("lambda.amazonaws.com",),
            "lambda:principal": ("apigateway.amazonaws.com",), "lambda:functionarn": (function,),
            f"aws:resourcetag/{naming.STAGE_TAG}": (aimed_at,)}


def every_check(aimed_at, tag):
    """Every grant of the room policy, aimed at ``aimed_at``'s resources (an HTTP API made with ``tag`` is
    that stage's: API Gateway lets anyone name an API anything, so its tags say whose it is)."""
    found = [Check(action, (arn,), context(aimed_at, tag)) for service, arn in resources(aimed_at)
             for action in room_actions(service)]
    found += [Check("lambda:CreateEventSourceMapping", ("*",), context(aimed_at, tag))]
    found += [Check(action, (f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:0f1e",), context(aimed_at, tag))
              for action in policies.MAPPING_ACTIONS]
    found += [Check("apigateway:DELETE", (f"arn:aws:apigateway:{REGION}::/apis/a1b2c3",), context(aimed_at, tag))]
    if tag == aimed_at:
        found += [Check("apigateway:POST", (f"arn:aws:apigateway:{REGION}::/apis",), context(aimed_at, tag))]
    return found


STAGES = st.from_regex(r"[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4}){0,2}", fullmatch=True)


@given(STAGES)
def test_a_participant_may_do_everything_the_kit_does_in_their_stage_and_its_play_stage(stage):
    for aimed_at in (stage, f"{stage}-play"):
        for check in every_check(aimed_at, aimed_at):
            assert decide(participant(stage), check).allowed, check


@given(STAGES, STAGES)
def test_no_participant_may_do_anything_to_another_stage(stage, other):
    if other == stage or other.startswith(stage + "-"):
        return  # the participant's own namespace: the room never gives another participant such a name
    for tag in (stage, other):  # what the caller sets in a request: their own tag, or the victim's
        for check in every_check(other, tag):
            decision = decide(participant(stage), check)
            assert not decision.allowed, check
            assert "is not authorized" in decision.reason


def test_a_role_can_be_made_or_changed_only_with_the_boundary_and_passed_only_to_lambda():
    alice, role = participant("alice"), Names("hw-alice-", REGION, ACCOUNT).role_arn("consumer")
    own = context("alice", "alice")
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"):
        for boundary in ((), (f"arn:aws:iam::{ACCOUNT}:policy/AdministratorAccess",)):
            without = {**own, "iam:permissionsboundary": boundary} if boundary else \
                {k: v for k, v in own.items() if k != "iam:permissionsboundary"}
            assert not decide(alice, Check(action, (role,), without)).allowed, (action, boundary)
    for action in ("iam:DeleteRolePermissionsBoundary", "iam:CreatePolicyVersion", "iam:DeletePolicy",
                   "iam:SetDefaultPolicyVersion", "iam:AttachRolePolicy", "iam:UntagRole"):
        assert not decide(alice, Check(action, (role,), own)).allowed, action
    assert not decide(alice, Check("iam:CreatePolicyVersion", (BOUNDARY,), own)).allowed
    untagged = {k: v for k, v in own.items() if not k.startswith("aws:requesttag/")}
    assert not decide(alice, Check("iam:CreateRole", (role,), untagged)).allowed
    for service in ("ec2.amazonaws.com", "glue.amazonaws.com", "lambda.amazonaws.com.evil"):
        passed = {**own, "iam:passedtoservice": (service,)}
        assert not decide(alice, Check("iam:PassRole", (role,), passed)).allowed, service
    assert decide(alice, Check("iam:PassRole", (role,), own)).allowed


def test_a_role_with_any_inline_policy_does_no_more_than_the_boundary_allows():
    star = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    role = Principal(f"arn:aws:sts::{ACCOUNT}:assumed-role/hw-alice-winner-consumer-role/x", (star,),
                     {naming.STAGE_TAG: "alice"}, policies.boundary(ACCOUNT))
    alice, bob = Names("hw-alice-", REGION, ACCOUNT), Names("hw-bob-", REGION, ACCOUNT)
    assert decide(role, Check("dynamodb:UpdateItem", (alice.table_arn(tables.SCORES),))).allowed
    for check in (Check("dynamodb:UpdateItem", (bob.table_arn(tables.SCORES),)),
                  Check("dynamodb:DeleteTable", (alice.table_arn(tables.SCORES),)),
                  Check("iam:CreateUser", (f"arn:aws:iam::{ACCOUNT}:user/mallory",)),
                  Check("kinesis:DeleteStream", (alice.stream_arn,))):
        decision = decide(role, check)
        assert not decision.allowed and "permissions boundary" in decision.reason, check


# The privilege-escalation paths cloudsplaining still lists when it flags every risky action, even on the
# participant's own ARNs and under conditions (it reads neither). Each acts through a role of the participant's
# namespace, and every such role carries the boundary: CreateRole and PutRolePolicy need it, and nothing lets a
# participant remove or change it. So the code such a path runs can do what a workshop function does, on the
# participant's own stage, and nothing more (test_a_role_with_any_inline_policy_does_no_more_than_the_boundary_allows).
# The per-stage policy of the old kit left eight: these four, and PassRole to a new function invoked directly or
# through DynamoDB or Kinesis, which the room policy no longer grants (no InvokeFunction, no PutItem).
BOUNDED_ESCALATIONS = {"PutRolePolicy", "EditExistingLambdaFunctionWithRole", "UpdateLambdaFunctionAndAddPermission",
                       "PassExistingRoleToNewLambdaThenAddPermission"}


def test_cloudsplaining_finds_no_escalation_and_only_bounded_ones_when_it_flags_every_risky_action():
    from cloudsplaining.scan.policy_document import PolicyDocument

    for document in (policies.room(REGION, ACCOUNT), policies.room(REGION, ACCOUNT, stage="alice"),
                     policies.boundary(ACCOUNT)):
        assert PolicyDocument(document).allows_privilege_escalation == []
        flagged = PolicyDocument(document, flag_resource_arn_statements=True).allows_privilege_escalation
        assert {path["type"] for path in flagged} <= BOUNDED_ESCALATIONS
