"""No identity steps outside its policy, whatever fields a request carries: a property over real HTTP.

Hypothesis writes requests for every operation the kit's policies allow, aims each at the caller's own
stage, another stage, or something outside the kit, and adds extra, empty and conflicting fields:
other stages' names and ARNs in the body, the same names in the URL's query, in a header, or both in
the URL and the body for IAM and STS. Each batch is signed as one identity (the participant, the
consumer's role, the API's role) and sent to one embedded server. Then the server's state is read
with the kit's identity: every resource that changed must be one the identity's policy lets it change,
and no answer may hold a secret kept where the identity may not read (another stage's, or outside the kit:
the participant holds the room policy, which reaches its own stage only).

CI runs ``EXAMPLES`` batches of ``BATCH`` requests (over 2,000), a third for each identity;
HELLO_WINNERS_ESCAPE_EXAMPLES asks for more.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import io
import json
import os
import urllib.parse
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import world
from signed import JSON_SERVICES, send

# Half a minute of requests: CI runs it once, in README's command, not again on every interpreter.
pytestmark = pytest.mark.slow
EXAMPLES = int(os.environ.get("HELLO_WINNERS_ESCAPE_EXAMPLES", "90"))
BATCH = 24
SECRETS = {"victim": "SECRET-victim-7f3a", "outside": "SECRET-outside-9c1e"}
SENT = collections.Counter()  # service: requests sent, over the whole module
SERVED = collections.Counter()  # service: requests answered 2xx (the property is not only about refusals)
ESCAPES = []

# What counts as changing a resource, per service (the kit's write actions).
WRITES = {
    "dynamodb": ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "CreateTable", "DeleteTable", "TagResource"),
    "kinesis": ("CreateStream", "DeleteStream", "PutRecord", "PutRecords", "AddTagsToStream"),
    "lambda": ("CreateFunction", "DeleteFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration", "TagResource",
               "AddPermission", "RemovePermission", "DeleteEventSourceMapping", "UpdateEventSourceMapping",
               "CreateEventSourceMapping"),
    "iam": ("CreateRole", "DeleteRole", "PutRolePolicy", "DeleteRolePolicy", "TagRole"),
    "logs": ("CreateLogGroup", "DeleteLogGroup", "CreateLogStream", "PutLogEvents"),
    "apigateway": ("POST", "PUT", "PATCH", "DELETE"),
}


def _zip():
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return base64.b64encode(code.getvalue()).decode()


ZIP = _zip()


@pytest.fixture(scope="module")
def place(embedded_server):
    """The world, plus secrets in the victim stage and in resources outside the kit's names."""
    probe = world.build(embedded_server.endpoint, "escown", "escvictim")
    kit = probe.kit
    outside = {"table": "outside-table", "stream": "outside-stream", "function": "outside-fn",
               "role": "outside-role", "log_group": "/aws/lambda/outside-fn"}
    kit["dynamodb"].create_table(TableName=outside["table"], BillingMode="PAY_PER_REQUEST",
                                 AttributeDefinitions=[{"AttributeName": "userId", "AttributeType": "S"}],
                                 KeySchema=[{"AttributeName": "userId", "KeyType": "HASH"}])
    kit["kinesis"].create_stream(StreamName=outside["stream"], ShardCount=1)
    kit["iam"].create_role(RoleName=outside["role"], AssumeRolePolicyDocument=json.dumps(world.models.LAMBDA_TRUST))
    kit["logs"].create_log_group(logGroupName=outside["log_group"])
    world._until_assumable(lambda: kit["lambda"].create_function(
        FunctionName=outside["function"], Runtime=world.models.RUNTIME, Role=probe.own.role_arn("api"),
        Handler="handler.handler", Code={"ZipFile": base64.b64decode(ZIP)}))
    for table in kit["dynamodb"].list_tables()["TableNames"]:
        description = kit["dynamodb"].describe_table(TableName=table)["Table"]
        types = {d["AttributeName"]: d["AttributeType"] for d in description["AttributeDefinitions"]}
        KEYS[table] = {k["AttributeName"]: {types[k["AttributeName"]]: "1"} for k in description["KeySchema"]}
    for table, secret in [(outside["table"], SECRETS["outside"])] + [
            (name, SECRETS["victim"]) for name in probe.victim.tables.values()]:
        kit["dynamodb"].put_item(TableName=table, Item={**KEYS[table], "secret": {"S": secret}})
    for stream, secret in ((outside["stream"], SECRETS["outside"]), (probe.victim.stream, SECRETS["victim"])):
        kit["kinesis"].put_record(StreamName=stream, Data=secret.encode(), PartitionKey="p")
    mappings = {}
    for stage, names in (("own", probe.own), ("victim", probe.victim)):
        mappings[stage] = kit["lambda"].create_event_source_mapping(
            FunctionName=names.function("consumer"), EventSourceArn=names.stream_arn,
            StartingPosition="TRIM_HORIZON", BatchSize=10)["UUID"]
    api = kit["apigatewayv2"].create_api(Name="outside-api", ProtocolType="HTTP")["ApiId"]
    places = {}
    for stage, names in (("own", probe.own), ("victim", probe.victim)):
        places[stage] = {"table": names.tables["TABLE_SCORES_NAME"], "stream": names.stream,
                         "function": names.function("api"), "role": names.role("api"),
                         "log_group": names.log_group("api"), "uuid": mappings[stage], "api": api}
    places["outside"] = {**outside, "uuid": "00000000-0000-0000-0000-000000000000", "api": api}
    places["fresh"] = {"table": "hw-escfresh-scores", "stream": "hw-escfresh-retail-stream",
                       "function": "hw-escfresh-winner-api", "role": "hw-escfresh-winner-api-role",
                       "log_group": "/aws/lambda/hw-escfresh-winner-api", "uuid": "11111111-1111-1111-1111-111111111111",
                       "api": "nosuchapi"}
    places["new-outside"] = {"table": "outside-new", "stream": "outside-new", "function": "outside-new",
                             "role": "outside-new", "log_group": "/aws/lambda/outside-new",
                             "uuid": "22222222-2222-2222-2222-222222222222", "api": "nosuchapi"}
    yield probe, places
    for mapping in kit["lambda"].list_event_source_mappings()["EventSourceMappings"]:  # the suite's other tests
        kit["lambda"].delete_event_source_mapping(UUID=mapping["UUID"])               # expect none of ours


def arns(probe, target):
    """Every ARN of the names of one place, as an attacker would paste them into a field."""
    region, account = world.embedded.REGION, probe.account
    return {
        "table": f"arn:aws:dynamodb:{region}:{account}:table/{target['table']}",
        "stream": f"arn:aws:kinesis:{region}:{account}:stream/{target['stream']}",
        "function": f"arn:aws:lambda:{region}:{account}:function:{target['function']}",
        "role": f"arn:aws:iam::{account}:role/{target['role']}",
        "log_group": f"arn:aws:logs:{region}:{account}:log-group:{target['log_group']}",
    }


def iterator(stream):
    return base64.b64encode(f"{stream}:shardId-000000000000:0".encode()).decode()


KEYS = {}  # table name: a key of it, filled when the world is made


def key(table):
    return KEYS.get(table, {"userId": {"S": "u1"}, "role": {"S": "merchant"}})


# Each operation the kit's policies name: (service, operation) -> a builder of (method, path, params) from a place.
def dynamodb_ops(t, a):
    table = t["table"]
    return {
        "GetItem": {"TableName": table, "Key": key(table)},
        "PutItem": {"TableName": table, "Item": {**key(table), "score": {"N": "5"}}},
        "UpdateItem": {"TableName": table, "Key": key(table), "UpdateExpression": "SET score = :s",
                       "ExpressionAttributeValues": {":s": {"N": "999999"}}},
        "DeleteItem": {"TableName": table, "Key": key(table)},
        "Query": {"TableName": table, "IndexName": "ScoresByRole", "KeyConditionExpression": "#r = :r",
                  "ExpressionAttributeNames": {"#r": "role"}, "ExpressionAttributeValues": {":r": {"S": "merchant"}}},
        "Scan": {"TableName": table},
        "DescribeTable": {"TableName": table},
        "DeleteTable": {"TableName": table},
        "CreateTable": {"TableName": table, "BillingMode": "PAY_PER_REQUEST",
                        "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
                        "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}]},
        "BatchGetItem": {"RequestItems": {table: {"Keys": [key(table)]}}},
        "BatchWriteItem": {"RequestItems": {table: [{"PutRequest": {"Item": {**key(table), "score": {"N": "7"}}}}]}},
        "TransactWriteItems": {"TransactItems": [{"Update": {"TableName": table, "Key": key(table),
                                                             "UpdateExpression": "SET score = :s",
                                                             "ExpressionAttributeValues": {":s": {"N": "3"}}}}]},
        "ListTagsOfResource": {"ResourceArn": a["table"]},
        "TagResource": {"ResourceArn": a["table"], "Tags": [{"Key": "k", "Value": "v"}]},
        "ExecuteStatement": {"Statement": f'SELECT * FROM "{table}"'},
        "ListTables": {},
    }


def kinesis_ops(t, a):
    stream = t["stream"]
    return {
        "DescribeStream": {"StreamName": stream},
        "DescribeStreamSummary": {"StreamARN": a["stream"]},
        "ListShards": {"StreamARN": a["stream"]},
        "GetShardIterator": {"StreamName": stream, "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"},
        "GetRecords": {"ShardIterator": iterator(stream)},
        "PutRecord": {"StreamName": stream, "Data": base64.b64encode(b"probe").decode(), "PartitionKey": "p"},
        "PutRecords": {"StreamARN": a["stream"], "Records": [{"Data": base64.b64encode(b"probe").decode(),
                                                              "PartitionKey": "p"}]},
        "CreateStream": {"StreamName": stream, "ShardCount": 1},
        "DeleteStream": {"StreamName": stream},
        "AddTagsToStream": {"StreamName": stream, "Tags": {"k": "v"}},
        "ListTagsForStream": {"StreamName": stream},
        "ListStreams": {},
    }


def logs_ops(t, a):
    group = t["log_group"]
    return {
        "CreateLogGroup": {"logGroupName": group},
        "DeleteLogGroup": {"logGroupName": group},
        "CreateLogStream": {"logGroupName": group, "logStreamName": "probe"},
        "PutLogEvents": {"logGroupName": group, "logStreamName": "probe",
                         "logEvents": [{"timestamp": 1_700_000_000_000, "message": "probe"}]},
        "FilterLogEvents": {"logGroupName": group},
        "GetLogEvents": {"logGroupName": group, "logStreamName": "probe"},
        "DescribeLogGroups": {"logGroupNamePrefix": "/aws/lambda/"},
    }


def lambda_ops(t, a, probe):
    fn = urllib.parse.quote(t["function"], safe="")
    res = urllib.parse.quote(a["function"], safe="")
    role = probe.own.role_arn("api")
    return {
        "GetFunction": ("GET", f"/2015-03-31/functions/{fn}", {}),
        "GetFunctionConfiguration": ("GET", f"/2015-03-31/functions/{fn}/configuration", {}),
        "GetPolicy": ("GET", f"/2015-03-31/functions/{fn}/policy", {}),
        "DeleteFunction": ("DELETE", f"/2015-03-31/functions/{fn}", {}),
        "UpdateFunctionConfiguration": ("PUT", f"/2015-03-31/functions/{fn}/configuration",
                                        {"Environment": {"Variables": {"PROBE": "1"}}}),
        "UpdateFunctionCode": ("PUT", f"/2015-03-31/functions/{fn}/code", {"ZipFile": ZIP}),
        "AddPermission": ("POST", f"/2015-03-31/functions/{fn}/policy",
                          {"StatementId": "probe", "Action": "lambda:InvokeFunction", "Principal": "apigateway.amazonaws.com"}),
        "RemovePermission": ("DELETE", f"/2015-03-31/functions/{fn}/policy/probe", {}),
        "Invoke": ("POST", f"/2015-03-31/functions/{fn}/invocations", {"UUID": t["uuid"]}),
        "ListTags": ("GET", f"/2017-03-31/tags/{res}", {}),
        "TagResource": ("POST", f"/2017-03-31/tags/{res}", {"Tags": {"k": "v"}}),
        "CreateFunction": ("POST", "/2015-03-31/functions", {"FunctionName": t["function"], "Runtime": "python3.12",
                                                             "Role": role, "Handler": "handler.handler",
                                                             "Code": {"ZipFile": ZIP}}),
        "GetEventSourceMapping": ("GET", f"/2015-03-31/event-source-mappings/{t['uuid']}", {}),
        "UpdateEventSourceMapping": ("PUT", f"/2015-03-31/event-source-mappings/{t['uuid']}", {"BatchSize": 20}),
        "ListEventSourceMappings": ("GET", "/2015-03-31/event-source-mappings", {}),
        "ListFunctions": ("GET", "/2015-03-31/functions", {}),
    }


def iam_ops(t, a):
    role = t["role"]
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    return {
        "GetRole": [("RoleName", role)],
        "CreateRole": [("RoleName", role), ("AssumeRolePolicyDocument", json.dumps(world.models.LAMBDA_TRUST))],
        "DeleteRole": [("RoleName", role)],
        "PutRolePolicy": [("RoleName", role), ("PolicyName", "probe"), ("PolicyDocument", policy)],
        "DeleteRolePolicy": [("RoleName", role), ("PolicyName", "policy")],
        "GetRolePolicy": [("RoleName", role), ("PolicyName", "policy")],
        "ListRolePolicies": [("RoleName", role)],
        "ListAttachedRolePolicies": [("RoleName", role)],
        "ListRoleTags": [("RoleName", role)],
        "TagRole": [("RoleName", role), ("Tags.member.1.Key", "k"), ("Tags.member.1.Value", "v")],
        "ListRoles": [],
    }


def sts_ops(t, a):
    return {"AssumeRole": [("RoleArn", a["role"]), ("RoleSessionName", "probe")], "GetCallerIdentity": []}


def apigateway_ops(t, a):
    api = t["api"]
    return {
        "GetApis": ("GET", "/v2/apis", {}),
        "GetApi": ("GET", f"/v2/apis/{api}", {}),
        "CreateApi": ("POST", "/v2/apis", {"name": "probe-api", "protocolType": "HTTP"}),
        "UpdateApi": ("PATCH", f"/v2/apis/{api}", {"name": "renamed"}),
        "GetIntegrations": ("GET", f"/v2/apis/{api}/integrations", {}),
    }


SERVICES = ("dynamodb", "kinesis", "lambda", "iam", "sts", "logs", "apigatewayv2")
OPERATIONS = {
    "dynamodb": sorted(dynamodb_ops({"table": "t"}, {"table": "a"})),
    "kinesis": sorted(kinesis_ops({"stream": "s"}, {"stream": "a"})),
    "logs": sorted(logs_ops({"log_group": "g"}, {})),
    "lambda": ["GetFunction", "GetFunctionConfiguration", "GetPolicy", "DeleteFunction", "UpdateFunctionConfiguration",
               "UpdateFunctionCode", "AddPermission", "RemovePermission", "Invoke", "ListTags", "TagResource",
               "CreateFunction", "GetEventSourceMapping", "UpdateEventSourceMapping", "ListEventSourceMappings",
               "ListFunctions"],
    "iam": sorted(iam_ops({"role": "r"}, {})),
    "sts": ["AssumeRole", "GetCallerIdentity"],
    "apigatewayv2": ["GetApis", "GetApi", "CreateApi", "UpdateApi", "GetIntegrations"],
}
# What the participant may destroy would empty the world for the next batches: it aims those elsewhere.
DESTRUCTIVE = {"DeleteTable", "DeleteStream", "DeleteFunction", "DeleteRole", "DeleteLogGroup", "DeleteRolePolicy",
               "UpdateFunctionCode", "UpdateFunctionConfiguration", "PutRolePolicy"}
FIELDS = ("TableName", "ResourceArn", "StreamName", "StreamARN", "FunctionName", "Resource", "UUID", "RoleName",
          "RoleArn", "logGroupName", "logGroupIdentifier", "TransactItems", "RequestItems", "IndexName", "Path",
          "ConsumerARN", "ShardIterator", "Qualifier")
PLACES = ("own", "victim", "outside", "fresh", "new-outside")
# Each identity gets a third of the batches (drawn, the simplest one would get most of them).
IDENTITIES = ("participant", "consumer", "api")


@st.composite
def requests(draw, identity):
    service = draw(st.sampled_from(SERVICES))
    operation = draw(st.sampled_from(OPERATIONS[service]))
    places = [p for p in PLACES if not (identity == "participant" and operation in DESTRUCTIVE and p in ("own", "victim"))]
    aim = draw(st.sampled_from(places))
    extras = draw(st.one_of(st.just([]), st.lists(st.tuples(
        st.sampled_from(("body", "query", "header")), st.sampled_from(FIELDS), st.sampled_from(PLACES),
        st.sampled_from(("name", "arn", "empty", "list", "map"))), min_size=1, max_size=3)))
    return service, operation, aim, extras


def extra_value(probe, places, field, place, form):
    target = places[place]
    kind = {"Table": "table", "Resou": "table", "Strea": "stream", "Funct": "function", "UUID": "uuid",
            "RoleN": "role", "RoleA": "role", "logGr": "log_group", "Index": "table", "Consu": "stream",
            "Shard": "stream", "Quali": "function", "Path": "role", "Trans": "table", "Reque": "table"}[field[:5] if
                                                                                                     field != "UUID" else "UUID"]
    if form == "empty":
        return ""
    if form == "list":
        return [] if field != "TransactItems" else [{"Update": {"TableName": target["table"]}}]
    if form == "map":
        return {} if field != "RequestItems" else {target["table"]: {"Keys": [key(target["table"])]}}
    if form == "arn" and kind in ("table", "stream", "function", "role", "log_group"):
        return arns(probe, target)[kind]
    if field == "ShardIterator":
        return iterator(target["stream"])
    return str(target.get(kind, target["table"]))


def build_request(probe, places, service, operation, aim, extras):
    target, names = places[aim], arns(probe, places[aim])
    headers, query, method, path = {}, [], "POST", "/"
    if service in JSON_SERVICES:
        body = {"dynamodb": dynamodb_ops, "kinesis": kinesis_ops, "logs": logs_ops}[service](target, names)[operation]
        content_type, prefix = JSON_SERVICES[service]
        headers = {"Content-Type": content_type, "X-Amz-Target": f"{prefix}.{operation}"}
    elif service in ("iam", "sts"):
        form = (iam_ops if service == "iam" else sts_ops)(target, names)[operation]
        body = [("Action", operation), ("Version", "2010-05-08" if service == "iam" else "2011-06-15"), *form]
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    else:
        method, path, body = (lambda_ops(target, names, probe) if service == "lambda" else apigateway_ops(target, names))[operation]
        headers = {"Content-Type": "application/json"}
        if operation == "Invoke":
            headers.update({"X-Amz-Invocation-Type": "DryRun", "Content-Type": "application/octet-stream"})
    for where, field, place, form in extras:
        value = extra_value(probe, places, field, place, form)
        if where == "query" or (where == "body" and isinstance(body, list)):
            if isinstance(value, str):
                (body if where == "body" else query).append((field, value))
        elif where == "header":
            if isinstance(value, str):
                headers[field] = value
        elif isinstance(body, dict):
            body = {**body, field: value}
    if isinstance(body, list):
        body = urllib.parse.urlencode(body)
    elif method in ("GET", "DELETE") and not body:
        body = b""
    return method, path, query, headers, body


def fingerprint(kit):
    """resource ARN -> (a digest of what it holds, the name it is the participant's by), for everything the kit's
    services hold: a mapping is its function's, a log group its function's, an HTTP API its name's."""
    state = {}
    region, account = world.embedded.REGION, kit["sts"].get_caller_identity()["Account"]

    def digest(value):
        return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]

    for table in kit["dynamodb"].list_tables()["TableNames"]:
        items = kit["dynamodb"].scan(TableName=table)["Items"]
        tags = kit["dynamodb"].list_tags_of_resource(ResourceArn=f"arn:aws:dynamodb:{region}:{account}:table/{table}")
        state[f"arn:aws:dynamodb:{region}:{account}:table/{table}"] = (digest([items, tags.get("Tags")]), table)
    for stream in kit["kinesis"].list_streams()["StreamNames"]:
        it = kit["kinesis"].get_shard_iterator(StreamName=stream, ShardId="shardId-000000000000",
                                               ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = [r["Data"] for r in kit["kinesis"].get_records(ShardIterator=it)["Records"]]
        tags = kit["kinesis"].list_tags_for_stream(StreamName=stream)["Tags"]
        state[f"arn:aws:kinesis:{region}:{account}:stream/{stream}"] = (digest([records, tags]), stream)
    for function in kit["lambda"].list_functions()["Functions"]:
        try:
            policy = kit["lambda"].get_policy(FunctionName=function["FunctionName"])["Policy"]
        except kit["lambda"].exceptions.ResourceNotFoundException:
            policy = None
        tags = kit["lambda"].list_tags(Resource=function["FunctionArn"])["Tags"]
        state[function["FunctionArn"]] = (digest([function["CodeSha256"], function.get("Environment"),
                                                  function["Role"], policy, tags]), function["FunctionName"])
    for mapping in kit["lambda"].list_event_source_mappings()["EventSourceMappings"]:
        state[f"arn:aws:lambda:{region}:{account}:event-source-mapping:{mapping['UUID']}"] = (
            digest([mapping["BatchSize"], mapping["State"]]), mapping["FunctionArn"].rpartition(":")[2])
    for role in kit["iam"].list_roles()["Roles"]:
        policies = kit["iam"].list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
        documents = [kit["iam"].get_role_policy(RoleName=role["RoleName"], PolicyName=p)["PolicyDocument"]
                     for p in policies]
        tags = kit["iam"].list_role_tags(RoleName=role["RoleName"])["Tags"]
        boundary = kit["iam"].get_role(RoleName=role["RoleName"])["Role"].get("PermissionsBoundary")
        state[role["Arn"]] = (digest([documents, tags, boundary]), role["RoleName"])
    for group in kit["logs"].describe_log_groups()["logGroups"]:
        streams = kit["logs"].describe_log_streams(logGroupName=group["logGroupName"])["logStreams"]
        events = kit["logs"].filter_log_events(logGroupName=group["logGroupName"])["events"]
        state[f"arn:aws:logs:{region}:{account}:log-group:{group['logGroupName']}"] = (
            digest([[s["logStreamName"] for s in streams], [e["message"] for e in events]]),
            group["logGroupName"].removeprefix("/aws/lambda/"))
    for api in kit["apigatewayv2"].get_apis()["Items"]:
        state[f"arn:aws:apigateway:{region}::/apis/{api['ApiId']}"] = (digest([api["Name"], api.get("Tags")]), api["Name"])
    return state


@pytest.fixture(scope="module")
def state(place):
    probe, _ = place
    return {"before": fingerprint(probe.kit)}


@pytest.mark.parametrize("identity", IDENTITIES)
@settings(max_examples=EXAMPLES // len(IDENTITIES), suppress_health_check=list(HealthCheck), derandomize=True,
          database=None)
@given(data=st.data())
def test_no_request_reads_or_changes_anything_outside_the_callers_policy(place, state, identity, data):
    probe, places = place
    signer = probe.identities[identity]
    batch = data.draw(st.lists(requests(identity), min_size=BATCH, max_size=BATCH), label="batch")
    escapes = []
    for service, operation, aim, extras in batch:
        method, path, query, headers, body = build_request(probe, places, service, operation, aim, extras)
        answer = send(probe.endpoint, signer, service, method, path, query=query, body=body, headers=headers)
        SENT[service] += 1
        SERVED[service] += answer.status < 300
        assert answer.status != 500, (service, operation, aim, extras, answer)
        for kind, secret in SECRETS.items():
            if secret.encode() in answer.body or base64.b64encode(secret.encode()) in answer.body:
                escapes.append((identity, service, operation, aim, extras, "read", kind))
    after = fingerprint(probe.kit)
    changed = {arn for arn in set(after) | set(state["before"]) if after.get(arn) != state["before"].get(arn)}
    for arn in changed:
        name = (after.get(arn) or state["before"][arn])[1]
        if not probe.may_change(identity, arn, name, WRITES[arn.split(":")[2]]):
            escapes.append((identity, arn, "changed", batch))
    state["before"] = after
    ESCAPES.extend(escapes)
    assert not escapes, escapes[:3]


def test_the_property_ran_over_two_thousand_requests_across_every_service():
    if EXAMPLES < 90:
        pytest.skip("fewer examples asked for")
    assert sum(SENT.values()) >= 2000 and set(SENT) == set(SERVICES), SENT
    assert all(SERVED[service] for service in SERVICES), SERVED  # each service also served what was allowed
    assert not ESCAPES
