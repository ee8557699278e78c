"""What the embedded AWS asks IAM for each call: the action and the resource AWS's reference names."""

import base64
import re
from urllib.parse import quote

import pytest

from hypothesis import given
from hypothesis import strategies as st

from hello_winners.embedded.authorization import Call, Check, Conflict, Principal, checks, decide


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
    iterator = base64.encodebytes(b"hw-a-retail-stream:shardId-000000000000:42").decode()  # as moto makes them: "...\n"
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
        assert re.fullmatch(r"[a-zA-Z0-9_.-]+", name) or expected == name  # what is not refused is a name AWS allows


@given(st.sampled_from(["kinesis", "dynamodb", "lambda", "iam", "sts", "logs", "apigatewayv2", "s3"]),
       st.sampled_from(["CreateTable", "ExecuteStatement", "TransactWriteItems", "BatchWriteItem", "ListThings"]))
def test_every_call_needs_at_least_one_permission(service, operation):
    assert checks(call(service, operation, TransactItems=[], RequestItems={}))


def test_a_stream_named_two_ways_that_disagree_is_refused():
    iterator = base64.b64encode(b"hw-b-retail-stream:shardId-000000000000:42").decode()
    own = "arn:aws:kinesis:us-east-1:123456789012:stream/hw-a-retail-stream"
    for params in ({"StreamName": "hw-b-retail-stream", "StreamARN": own}, {"ShardIterator": iterator, "StreamARN": own}):
        with pytest.raises(Conflict, match="^" + re.escape(
                "the request names more than one stream (by name, ARN or shard iterator): name one") + "$"):
            checks(call("kinesis", "GetRecords", **params))
    agreed = checks(call("kinesis", "ListShards", StreamName="hw-a-retail-stream", StreamARN=own))
    assert agreed == [Check("kinesis:ListShards", (own,))]


def test_a_transaction_item_that_holds_two_actions_or_none_is_refused():
    for item in ({"Put": {"TableName": "hw-a-scores"}, "Delete": {"TableName": "hw-b-scores"}}, {}):
        with pytest.raises(Conflict, match="^each item of a transaction must hold exactly one action$"):
            checks(call("dynamodb", "TransactWriteItems", TransactItems=[item]))


def test_a_log_group_named_twice_is_refused():
    with pytest.raises(Conflict, match="^" + re.escape(
            "the request names its log group twice (logGroupName and logGroupIdentifier): name it once") + "$"):
        checks(call("logs", "FilterLogEvents", logGroupName="/aws/lambda/hw-a-winner-api",
                    logGroupIdentifier="/aws/lambda/outside"))


# --- the decision ----------------------------------------------------------------------------------

ROLE = "arn:aws:iam::123456789012:role/hw-a-winner-api-role"
USER = "arn:aws:iam::123456789012:user/hello-winners/a"


def allow(action, resource, condition=None, effect="Allow"):
    statement = {"Effect": effect, "Action": action, "Resource": resource}
    if condition is not None:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def who(*documents, tags=None, boundary=None):
    return Principal(USER, tuple(documents), tags or {}, boundary)


def test_an_allow_is_needed_and_an_explicit_deny_wins():
    check = Check("dynamodb:GetItem", ("arn:aws:dynamodb:us-east-1:123456789012:table/hw-a-scores",))
    assert decide(who(), check).reason == (
        "User: arn:aws:iam::123456789012:user/hello-winners/a is not authorized to perform: dynamodb:GetItem on "
        "resource: arn:aws:dynamodb:us-east-1:123456789012:table/hw-a-scores because no identity-based policy allows "
        "the dynamodb:GetItem action")  # what the caller reads in the AccessDenied error
    assert decide(who(allow("dynamodb:*", "*")), check).allowed
    denied = decide(who(allow("dynamodb:*", "*"), allow("dynamodb:GetItem", "*", effect="Deny")), check)
    assert denied.allowed is False and "explicit deny" in denied.reason
    assert decide(who(allow("DynamoDB:getitem", "arn:aws:dynamodb:*:*:table/hw-a-*")), check).allowed  # actions ignore case
    assert not decide(who(allow("dynamodb:GetItem", "arn:aws:dynamodb:*:*:table/HW-A-*")), check).allowed  # ARNs do not


def test_get_caller_identity_needs_no_permission():
    assert decide(who(allow("s3:*", "*", effect="Deny")), Check("sts:GetCallerIdentity", ("*",))).allowed


def test_a_boundary_must_allow_too():
    check = Check("dynamodb:DeleteTable", ("arn:aws:dynamodb:us-east-1:123456789012:table/hw-a-scores",))
    bounded = decide(who(allow("*", "*"), boundary=allow("dynamodb:GetItem", "*")), check)
    assert bounded.allowed is False and "permissions boundary" in bounded.reason
    assert decide(who(allow("*", "*"), boundary=allow("dynamodb:*", "*")), check).allowed
    assert not decide(who(boundary=allow("*", "*")), check).allowed  # a boundary grants nothing by itself


def test_policy_variables_resolve_to_the_callers_tags_and_a_missing_one_matches_nothing():
    policy = allow("kinesis:PutRecord", "arn:aws:kinesis:*:*:stream/hw-${aws:PrincipalTag/hello-winners:stage}-*")
    mine = Check("kinesis:PutRecord", ("arn:aws:kinesis:us-east-1:123456789012:stream/hw-a-retail-stream",))
    other = Check("kinesis:PutRecord", ("arn:aws:kinesis:us-east-1:123456789012:stream/hw-b-retail-stream",))
    assert decide(who(policy, tags={"hello-winners:stage": "a"}), mine).allowed
    assert not decide(who(policy, tags={"hello-winners:stage": "a"}), other).allowed
    assert not decide(who(policy), mine).allowed
    for sneaky in ("*", "a*", "?", "a:b"):  # a tag value is never read as a pattern
        assert not decide(who(policy, tags={"Hello-Winners:Stage": sneaky}), other).allowed


def test_condition_operators_as_iam_defines_them():
    check = Check("iam:PassRole", (ROLE,), {"iam:passedtoservice": ("lambda.amazonaws.com",)})
    cases = {
        ("StringEquals", "lambda.amazonaws.com"): True,
        ("StringEquals", "LAMBDA.amazonaws.com"): False,
        ("StringEqualsIgnoreCase", "LAMBDA.amazonaws.com"): True,
        ("StringNotEquals", "ec2.amazonaws.com"): True,
        ("StringNotEquals", "lambda.amazonaws.com"): False,
        ("StringLike", "lambda.*"): True,
        ("StringLike", "lambd?.amazonaws.com"): True,
        ("StringNotLike", "lambda.*"): False,
        ("StringEqualsIfExists", "ec2.amazonaws.com"): False,
        ("ForAnyValue:StringEquals", "lambda.amazonaws.com"): True,
        ("ForAllValues:StringEquals", "ec2.amazonaws.com"): False,
    }
    for (operator, value), expected in cases.items():
        policy = allow("iam:PassRole", "*", {operator: {"iam:PassedToService": value}})
        assert decide(who(policy), check).allowed is expected, (operator, value)


@pytest.mark.parametrize("operator", ["IfExists", "ForAnyValue:IfExists", "NullIfExists", "ForAllValues:Null",
                                      "Bool", "StringEqual"])
def test_an_operator_iam_does_not_define_or_this_module_does_not_evaluate_denies_and_is_named(operator):
    check = Check("iam:PassRole", (ROLE,), {"iam:passedtoservice": ("lambda.amazonaws.com",)})
    decision = decide(who(allow("iam:PassRole", "*", {operator: {"iam:PassedToService": "lambda.amazonaws.com"}})), check)
    assert decision.allowed is False
    assert decision.reason.endswith(f"the condition operator {operator} is not one the embedded AWS evaluates")


def test_a_missing_key_fails_a_positive_operator_and_passes_a_negated_one_or_if_exists():
    check = Check("iam:PassRole", (ROLE,))
    for operator, expected in (("StringEquals", False), ("StringNotEquals", True), ("StringEqualsIfExists", True),
                               ("ArnLike", False), ("ArnNotLike", True), ("ForAllValues:StringEquals", True),
                               ("ForAnyValue:StringEquals", False)):
        policy = allow("iam:PassRole", "*", {operator: {"iam:PassedToService": "lambda.amazonaws.com"}})
        assert decide(who(policy), check).allowed is expected, operator
    for value, expected in (("true", True), ("false", False)):
        assert decide(who(allow("iam:PassRole", "*", {"Null": {"iam:PassedToService": value}})), check).allowed is expected


def test_arn_operators_compare_the_six_parts_of_an_arn():
    check = Check("lambda:CreateEventSourceMapping", ("*",),
                  {"lambda:functionarn": ("arn:aws:lambda:us-east-1:123456789012:function:hw-a-winner-consumer",)})
    for pattern, expected in (("arn:aws:lambda:*:*:function:hw-a-*", True), ("arn:aws:lambda:*:*:function:hw-b-*", False),
                              ("arn:aws:*:us-east-1:123456789012:function:hw-a-winner-consumer", True),
                              ("arn:aws:lambda:us-east-1:*:function:*", True), ("arn:*", False)):
        policy = allow("lambda:CreateEventSourceMapping", "*", {"ArnLike": {"lambda:FunctionArn": pattern}})
        assert decide(who(policy), check).allowed is expected, pattern


@pytest.mark.parametrize("condition, said", [
    ({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, "operator NumericLessThan"),
    ({"Bool": {"aws:SecureTransport": "true"}}, "operator Bool"),
    ({"ForSomeValues:StringEquals": {"aws:TagKeys": "x"}}, "operator ForSomeValues:StringEquals"),
    ({"StringEquals": {"aws:SourceIp": "127.0.0.1"}}, "key aws:SourceIp"),
    ({"StringEquals": {"aws:PrincipalTag/x": "${aws:username}"}}, "variable ${aws:username}"),
    ({"NullIfExists": {"iam:PassedToService": "true"}}, "operator NullIfExists"),  # IAM has neither
    ({"ForAnyValue:Null": {"aws:TagKeys": "true"}}, "operator ForAnyValue:Null"),
])
def test_what_is_not_evaluated_denies_and_says_which(condition, said):
    for effect in ("Allow", "Deny"):
        decision = decide(who(allow("*", "*"), allow("iam:PassRole", "*", condition, effect=effect)),
                          Check("iam:PassRole", (ROLE,)))
        assert not decision.allowed and said in decision.reason, decision


def test_an_unevaluated_condition_in_a_statement_that_does_not_apply_changes_nothing():
    other = allow("s3:GetObject", "*", {"Bool": {"aws:SecureTransport": "true"}})
    assert decide(who(allow("iam:PassRole", "*"), other), Check("iam:PassRole", (ROLE,))).allowed


def test_not_action_and_not_resource():
    check = Check("iam:CreateUser", ("arn:aws:iam::123456789012:user/x",))
    assert not decide(who({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}), check).allowed
    assert decide(who({"Statement": [{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}]}), check).allowed
    assert not decide(who({"Statement": [{"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:iam::*:*"}]}),
                      check).allowed
    assert decide(who({"Statement": {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::*"}}), check).allowed


def test_a_check_carries_the_condition_keys_of_its_request():
    facts = Facts({ROLE: {"hello-winners:stage": "a"},
                   "arn:aws:apigateway:us-east-1::/apis/abc": {"hello-winners:stage": "a"}},
                  {ROLE: "arn:aws:iam::123456789012:policy/hello-winners-boundary"},
                  {"arn:aws:lambda:us-east-1:123456789012:event-source-mapping:u-1":
                   "arn:aws:lambda:us-east-1:123456789012:function:hw-a-winner-consumer"})
    (put,) = checks(call("iam", "PutRolePolicy", RoleName="hw-a-winner-api-role"), facts)
    assert put.context["iam:permissionsboundary"] == ("arn:aws:iam::123456789012:policy/hello-winners-boundary",)
    assert put.context["aws:resourcetag/hello-winners:stage"] == put.context["iam:resourcetag/hello-winners:stage"] == (
        "a",)
    (create,) = checks(call("iam", "CreateRole", RoleName="hw-a-winner-api-role", PermissionsBoundary="arn:b",
                            Tags=[{"Key": "hello-winners:stage", "Value": "a"}]), facts)
    assert create.context["iam:permissionsboundary"] == ("arn:b",)
    assert create.context["aws:requesttag/hello-winners:stage"] == ("a",) and create.context["aws:tagkeys"] == (
        "hello-winners:stage",)
    _, passed = checks(call("lambda", "CreateFunction", FunctionName="hw-a-winner-api", Role=ROLE), facts)
    assert passed.context["iam:passedtoservice"] == ("lambda.amazonaws.com",)
    _, handed = checks(call("apigatewayv2", "CreateApi", "POST", "/v2/apis", CredentialsArn=ROLE), facts)
    assert handed.action == "iam:PassRole" and handed.resources == (ROLE,)
    assert handed.context["iam:passedtoservice"] == ("apigateway.amazonaws.com",)
    (mapping,) = checks(call("lambda", "DeleteEventSourceMapping", "DELETE", UUID="u-1"), facts)
    assert mapping.context["lambda:functionarn"] == (
        "arn:aws:lambda:us-east-1:123456789012:function:hw-a-winner-consumer",)
    moved = checks(call("lambda", "UpdateEventSourceMapping", "PUT", UUID="u-1", FunctionName="hw-b-winner-consumer"),
                   facts)
    assert [c.context["lambda:functionarn"][0].rpartition(":")[2] for c in moved] == [
        "hw-a-winner-consumer", "hw-b-winner-consumer"]  # both the mapping's function and the new one must be allowed
    (api,) = checks(call("apigatewayv2", "DeleteApi", "DELETE", "/v2/apis/abc"), facts)
    assert api.context["aws:resourcetag/hello-winners:stage"] == ("a",)
    (permission,) = checks(call("lambda", "AddPermission", FunctionName="f", Principal="s3.amazonaws.com"), facts)
    assert permission.context["lambda:principal"] == ("s3.amazonaws.com",)


def test_a_queue_is_checked_on_the_arn_its_url_names():
    (send,) = checks(call("sqs", "SendMessage", QueueUrl="http://127.0.0.1:5000/123456789012/hw-a-failed-batches"))
    assert send.resources == ("arn:aws:sqs:us-east-1:123456789012:hw-a-failed-batches",)
    (create,) = checks(call("sqs", "CreateQueue", QueueName="hw-a-failed-batches"))
    assert create.resources == ("arn:aws:sqs:us-east-1:123456789012:hw-a-failed-batches",)
    for url in ("http://127.0.0.1/hw-a-failed-batches", "http://x/123456789012/a/b:c", "", "123456789012",
                "http://127.0.0.1:5000/123456789012/" + "q" * 100):
        with pytest.raises(Conflict, match=f"^{re.escape(repr(url[:80]))} is not a queue's URL$"):
            checks(call("sqs", "SendMessage", QueueUrl=url))


def test_a_name_no_resource_can_have_is_refused_saying_so_in_at_most_80_characters():
    name = "hw-a/" * 30
    with pytest.raises(Conflict, match=f"^{re.escape(repr(name[:80]))} is not a table name$"):
        checks(call("dynamodb", "GetItem", TableName=name))


class Facts:
    def __init__(self, tags, boundaries, mappings):
        self._tags, self._boundaries, self._mappings = tags, boundaries, mappings

    def tags(self, arn):
        return self._tags.get(arn)

    def boundary(self, role_arn):
        return self._boundaries.get(role_arn)

    def mapping_function(self, mapping_arn):
        return self._mappings.get(mapping_arn)


DOCUMENTS = st.lists(st.fixed_dictionaries({
    "Effect": st.sampled_from(["Allow", "Deny"]),
    "Action": st.sampled_from(["*", "dynamodb:*", "dynamodb:GetItem", "dynamodb:PutItem", "kinesis:*"]),
    "Resource": st.sampled_from(["*", "arn:aws:dynamodb:*:*:table/hw-a-*", "arn:aws:dynamodb:*:*:table/hw-b-*"]),
}), max_size=4).map(lambda statements: {"Version": "2012-10-17", "Statement": statements})
CHECKS = st.builds(lambda action, table: Check(action, (f"arn:aws:dynamodb:us-east-1:123456789012:table/{table}",)),
                   st.sampled_from(["dynamodb:GetItem", "dynamodb:PutItem", "kinesis:PutRecord"]),
                   st.sampled_from(["hw-a-scores", "hw-b-scores", "other"]))


@given(st.lists(DOCUMENTS, max_size=3), st.one_of(st.none(), DOCUMENTS), CHECKS)
def test_a_boundary_and_more_policies_never_widen_and_a_deny_always_wins(documents, boundary, check):
    alone = decide(who(*documents), check).allowed
    bounded = decide(who(*documents, boundary=boundary), check).allowed
    assert not bounded or alone  # a boundary only takes away
    if boundary is not None:
        assert not bounded or decide(who(boundary), check).allowed  # and allows nothing its own document would not
    denying = allow(check.action, check.resources[0], effect="Deny")
    assert not decide(who(*documents, denying), check).allowed
    assert not decide(who(*documents, boundary=denying), check).allowed


# --- what each call is checked on, service by service ----------------------------------------------

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:"
LOG_GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/hw-a-winner-api"
STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/hw-a-retail-stream"
POLICY = "arn:aws:iam::123456789012:policy/hello-winners-boundary"

RESOURCES = {
    "kinesis without a stream": (call("kinesis", "ListStreams"), [("kinesis:ListStreams", "*")]),
    "kinesis consumer": (call("kinesis", "SubscribeToShard", ConsumerARN=f"{STREAM}/consumer/hw-a-reader:1700000000"),
                         [("kinesis:SubscribeToShard", STREAM)]),
    "dynamodb without a table": (call("dynamodb", "ListTables"), [("dynamodb:ListTables", "*")]),
    "dynamodb read transaction": (call("dynamodb", "TransactGetItems", TransactItems=[{"Get": {"TableName": "hw-a-scores"}}]),
                                  [("dynamodb:GetItem", TABLE + "hw-a-scores")]),
    "dynamodb batch read": (call("dynamodb", "BatchGetItem", RequestItems={"hw-a-scores": {"Keys": []}}),
                            [("dynamodb:BatchGetItem", TABLE + "hw-a-scores")]),
    "dynamodb table by arn": (call("dynamodb", "BatchWriteItem", RequestItems={TABLE + "hw-b-scores": []}),
                              [("dynamodb:BatchWriteItem", TABLE + "hw-b-scores")]),
    "dynamodb tags": (call("dynamodb", "TagResource", ResourceArn=TABLE + "hw-b-scores"),
                      [("dynamodb:TagResource", TABLE + "hw-b-scores")]),
    "lambda mappings of a function": (call("lambda", "ListEventSourceMappings", FunctionName="hw-a-winner-consumer"),
                                      [("lambda:ListEventSourceMappings", "*")]),
    "lambda list with an extra name": (call("lambda", "ListFunctions", FunctionName="hw-b-winner-api"),
                                       [("lambda:ListFunctions", "*")]),
    "lambda tags": (call("lambda", "TagResource", Resource=quote(FUNCTION + "hw-b-winner-api", safe="")),
                    [("lambda:TagResource", FUNCTION + "hw-b-winner-api")]),
    "lambda alias": (call("lambda", "Invoke", FunctionName="hw-a-winner-api", Qualifier="live"),
                     [("lambda:InvokeFunction", FUNCTION + "hw-a-winner-api:live")]),
    "lambda $LATEST": (call("lambda", "Invoke", FunctionName="hw-a-winner-api", Qualifier="$LATEST"),
                       [("lambda:InvokeFunction", FUNCTION + "hw-a-winner-api")]),
    "lambda by arn": (call("lambda", "Invoke", FunctionName=FUNCTION + "hw-b-winner-api"),
                      [("lambda:InvokeFunction", FUNCTION + "hw-b-winner-api")]),
    "lambda by partial arn": (call("lambda", "Invoke", FunctionName="123456789012:function:hw-b-winner-api"),
                              [("lambda:InvokeFunction", FUNCTION + "hw-b-winner-api")]),
    "lambda without a function": (call("lambda", "GetAccountSettings"), [("lambda:GetAccountSettings", "*")]),
    "lambda new role": (call("lambda", "UpdateFunctionConfiguration", "PUT", FunctionName="hw-a-winner-api", Role=ROLE),
                        [("lambda:UpdateFunctionConfiguration", FUNCTION + "hw-a-winner-api"), ("iam:PassRole", ROLE)]),
    "lambda role elsewhere": (call("lambda", "UpdateFunctionCode", "PUT", FunctionName="hw-a-winner-api", Role=ROLE),
                              [("lambda:UpdateFunctionCode", FUNCTION + "hw-a-winner-api")]),
    "iam role with a path": (call("iam", "CreateRole", RoleName="hw-a-r", Path="/service/"),
                             [("iam:CreateRole", "arn:aws:iam::123456789012:role/service/hw-a-r")]),
    "iam extra path": (call("iam", "DeleteRole", RoleName="hw-b-winner-api-role", Path="/hw-a-x/"),
                       [("iam:DeleteRole", "arn:aws:iam::123456789012:role/hw-b-winner-api-role")]),
    "iam user": (call("iam", "CreateUser", UserName="a"), [("iam:CreateUser", "arn:aws:iam::123456789012:user/a")]),
    "iam policy": (call("iam", "GetPolicy", PolicyArn=POLICY), [("iam:GetPolicy", POLICY)]),
    "iam without a resource": (call("iam", "ListRoles"), [("iam:ListRoles", "*")]),
    "sts role": (call("sts", "AssumeRole", RoleArn=ROLE), [("sts:AssumeRole", ROLE)]),
    "sts without a role": (call("sts", "GetCallerIdentity"), [("sts:GetCallerIdentity", "*")]),
    "logs group by arn": (call("logs", "DescribeLogStreams", logGroupIdentifier=LOG_GROUP),
                          [("logs:DescribeLogStreams", LOG_GROUP, LOG_GROUP + ":*")]),
    "logs group by arn with :*": (call("logs", "DescribeLogStreams", logGroupIdentifier=LOG_GROUP + ":*"),
                                  [("logs:DescribeLogStreams", LOG_GROUP + ":*", LOG_GROUP + ":*")]),
    "logs group by identifier": (call("logs", "DescribeLogStreams", logGroupIdentifier="/aws/lambda/hw-a-winner-api"),
                                 [("logs:DescribeLogStreams", LOG_GROUP, LOG_GROUP + ":*")]),
    "logs without a group": (call("logs", "DescribeLogGroups"),
                             [("logs:DescribeLogGroups", "arn:aws:logs:us-east-1:123456789012:log-group:*")]),
    "logs stream": (call("logs", "PutLogEvents", logGroupName="/aws/lambda/hw-a-winner-api",
                         logStreamName="2024/01/01/[$LATEST]abc"),
                    [("logs:PutLogEvents", LOG_GROUP + ":log-stream:2024/01/01/[$LATEST]abc", LOG_GROUP + ":*")]),
    "sqs without a queue": (call("sqs", "ListQueues"), [("sqs:ListQueues", "*")]),
    "a service not listed": (call("s3", "GetObject"), [("s3:GetObject", "*")]),
}


@pytest.mark.parametrize("made, expected", RESOURCES.values(), ids=RESOURCES)
def test_each_call_is_checked_on_the_resources_aws_names_for_it(made, expected):
    assert checks(made) == [Check(action, tuple(resources)) for action, *resources in expected]


def test_each_call_carries_the_condition_keys_aws_gives_it():
    facts = Facts({}, {ROLE: POLICY}, {"arn:aws:lambda:us-east-1:123456789012:event-source-mapping:u-1":
                                       FUNCTION + "hw-a-winner-consumer"})
    (bound,) = checks(call("iam", "PutRolePermissionsBoundary", RoleName="hw-a-winner-api-role",
                           PermissionsBoundary="arn:aws:iam::123456789012:policy/other"), facts)
    assert bound.context["iam:permissionsboundary"] == ("arn:aws:iam::123456789012:policy/other",)  # the one asked for
    for operation in ("AttachRolePolicy", "DetachRolePolicy"):
        (attach,) = checks(call("iam", operation, RoleName="hw-a-winner-api-role", PolicyArn=POLICY), facts)
        assert attach.context == {"iam:permissionsboundary": (POLICY,), "iam:policyarn": (POLICY,)}, operation
    (create,) = checks(call("iam", "CreateRole", RoleName="hw-a-winner-api-role", Tags=[]), facts)
    assert create.context == {}  # no boundary asked for, no tags: neither key is present (a Null condition sees it)
    (mapping,) = checks(call("lambda", "CreateEventSourceMapping", FunctionName="hw-a-winner-consumer"), facts)
    assert mapping.context == {"lambda:functionarn": (FUNCTION + "hw-a-winner-consumer",)}
    (deleted,) = checks(call("lambda", "DeleteEventSourceMapping", "DELETE", UUID="u-1",
                             FunctionName="hw-b-winner-consumer"), facts)  # an extra name moves nothing
    assert deleted.context == {"lambda:functionarn": (FUNCTION + "hw-a-winner-consumer",)}


@pytest.mark.parametrize("made, expected", [
    (call("sqs", "CreateQueue", QueueName="hw-a-q", tags={"hello-winners:stage": "a"}),
     {"aws:requesttag/hello-winners:stage": ("a",), "aws:tagkeys": ("hello-winners:stage",)}),
    (call("lambda", "CreateFunction", FunctionName="hw-a-f", Tags={"Hello-Winners:Stage": "a"}),
     {"aws:requesttag/hello-winners:stage": ("a",), "aws:tagkeys": ("Hello-Winners:Stage",)}),
    (call("iam", "CreateRole", RoleName="hw-a-r", Tags=[{"Key": "empty"}]),
     {"aws:requesttag/empty": ("",), "aws:tagkeys": ("empty",)}),
], ids=["sqs-lowercase-tags", "lambda-tags-as-a-map", "a-tag-without-a-value"])
def test_the_tags_a_request_sets_are_its_request_tags_in_every_services_shape(made, expected):
    assert checks(made)[0].context == expected


def test_a_shard_iterator_is_read_as_moto_reads_it():
    """moto decodes an iterator leniently (a line break or a stray character is skipped): the check names the
    stream moto will read, whatever the iterator's spelling."""
    iterator = base64.b64encode(b"hw-a-retail-stream:shardId-000000000000:42").decode()
    (check,) = checks(call("kinesis", "GetShardIterator", ShardIterator=iterator[:8] + "\n" + iterator[8:]))
    assert check.resources == (STREAM,)


# --- what the decision evaluates ---------------------------------------------------------------------


def test_actions_and_resources_may_be_lists():
    policy = allow(["dynamodb:GetItem", "dynamodb:Query"], [TABLE + "hw-a-scores", TABLE + "hw-a-contributions"])
    assert decide(who(policy), Check("dynamodb:Query", (TABLE + "hw-a-contributions",))).allowed
    assert not decide(who(policy), Check("dynamodb:PutItem", (TABLE + "hw-a-scores",))).allowed


def test_not_action_ignores_case_and_a_statement_without_a_resource_applies_to_nothing():
    check = Check("iam:CreateUser", ("arn:aws:iam::123456789012:user/x",))
    assert not decide(who({"Statement": [{"Effect": "Allow", "NotAction": "IAM:*", "Resource": "*"}]}), check).allowed
    assert not decide(who({"Statement": [{"Effect": "Allow", "Action": "*"}]}), check).allowed
    assert decide(who(allow("*", "*"), {"Statement": [{"Effect": "Deny", "Action": "*"}]}), check).allowed


def test_a_policy_without_statements_allows_and_denies_nothing():
    check = Check("iam:CreateUser", ("arn:aws:iam::123456789012:user/x",))
    assert decide(who({"Version": "2012-10-17"}, allow("iam:*", "*")), check).allowed
    assert not decide(who({"Version": "2012-10-17"}), check).allowed


def test_not_resource_resolves_the_callers_tags_too():
    policy = {"Statement": [{"Effect": "Allow", "Action": "dynamodb:*",
                             "NotResource": TABLE + "hw-${aws:PrincipalTag/hello-winners:stage}-*"}]}
    tags = {"hello-winners:stage": "a"}
    assert not decide(who(policy, tags=tags), Check("dynamodb:GetItem", (TABLE + "hw-a-scores",))).allowed
    assert decide(who(policy, tags=tags), Check("dynamodb:GetItem", (TABLE + "hw-b-scores",))).allowed


def test_a_boundary_resolves_the_callers_tags_too():
    boundary = allow("kinesis:PutRecord", "arn:aws:kinesis:*:*:stream/hw-${aws:PrincipalTag/hello-winners:stage}-*")
    caller = who(allow("*", "*"), tags={"hello-winners:stage": "a"}, boundary=boundary)
    assert decide(caller, Check("kinesis:PutRecord", (STREAM,))).allowed
    assert not decide(caller, Check("kinesis:PutRecord", (STREAM.replace("hw-a-", "hw-b-"),))).allowed


def test_a_condition_may_compare_a_resource_tag_with_the_callers_tag():
    check = Check("iam:PutRolePolicy", (ROLE,), {"aws:resourcetag/hello-winners:stage": ("a",)})
    policy = allow("iam:PutRolePolicy", "*",
                   {"StringEquals": {"aws:ResourceTag/hello-winners:stage": "${aws:PrincipalTag/hello-winners:stage}"}})
    assert decide(who(policy, tags={"hello-winners:stage": "a"}), check).allowed
    assert not decide(who(policy, tags={"hello-winners:stage": "b"}), check).allowed
    assert not decide(who(policy), check).allowed  # a caller without the tag: the condition is false


@pytest.mark.parametrize("value", ["X1", "Xa-b"])
def test_a_callers_tag_is_used_whatever_its_letters(value):
    policy = allow("kinesis:PutRecord", "arn:aws:kinesis:*:*:stream/hw-${aws:PrincipalTag/hello-winners:stage}-*")
    check = Check("kinesis:PutRecord", (f"arn:aws:kinesis:us-east-1:123456789012:stream/hw-{value}-retail-stream",))
    assert decide(who(policy, tags={"hello-winners:stage": value}), check).allowed


def test_a_missing_tag_matches_nothing_even_where_an_empty_value_would_match_everything():
    policy = allow("kinesis:*", "arn:aws:kinesis:*:*:stream/${aws:PrincipalTag/hello-winners:stage}*")
    assert not decide(who(policy), Check("kinesis:PutRecord", (STREAM,))).allowed
    assert decide(who(policy, tags={"hello-winners:stage": "hw-a"}), Check("kinesis:PutRecord", (STREAM,))).allowed


def test_null_says_whether_the_key_is_present():
    present = Check("iam:PassRole", (ROLE,), {"iam:passedtoservice": ("lambda.amazonaws.com",)})
    absent = Check("iam:PassRole", (ROLE,))
    for value, when_present, when_absent in (("true", False, True), ("false", True, False), ("maybe", False, False),
                                             (["true", "false"], True, True)):  # values are ORed, as for any operator
        policy = allow("iam:PassRole", "*", {"Null": {"iam:PassedToService": value}})
        assert (decide(who(policy), present).allowed, decide(who(policy), absent).allowed) == (when_present,
                                                                                               when_absent), value
        denying = allow("iam:PassRole", "*", {"Null": {"iam:PassedToService": value}}, effect="Deny")
        assert decide(who(allow("*", "*"), denying), present).allowed is not when_present, value


@pytest.mark.parametrize("operator, values, expected", [
    ("ForAllValues:StringEquals", ["hello-winners:stage", "team"], True),
    ("ForAllValues:StringEquals", ["hello-winners:stage"], False),  # the request's "team" is not listed
    ("ForAnyValue:StringEquals", ["team"], True),
    ("ForAnyValue:StringEquals", ["other"], False),
    ("ForAllValues:StringNotEquals", ["other"], True),
    ("ForAllValues:StringNotEquals", ["team"], False),
    ("ForAnyValue:StringNotEquals", ["team"], True),  # the stage key is not "team"
    ("ForAnyValue:StringNotEquals", ["hello-winners:stage", "team"], False),
    ("StringEquals", ["team"], True),
])
def test_set_operators_on_a_key_with_many_values(operator, values, expected):
    check = Check("iam:CreateRole", (ROLE,), {"aws:tagkeys": ("hello-winners:stage", "team")})
    assert decide(who(allow("iam:CreateRole", "*", {operator: {"aws:TagKeys": values}})), check).allowed is expected
