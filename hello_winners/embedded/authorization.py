"""What IAM checks for one request: the action and the resource ARN, as AWS's authorization reference says.

moto checks the action of a request but hands its IAM check the resource ``*``, so a policy scoped to a
stage's ARNs would allow nothing, and a policy allowing the wrong table would pass. This module names
the resource each call of the kit's services acts on (the stream, each table of a batch, the function,
the role, the log group, the HTTP API's path) and the extra permission some calls need (passing a role
to Lambda). Pure: the moto side (hello_winners.embedded.strict) reads each request once
(hello_winners.embedded.binding) and hands the parameters moto acts on here as a :class:`Call`.

Two rules keep it closed: a call yields at least one check (a call that names nothing is checked on
``*``), and a call that names its resource twice in ways that disagree (a stream by name and by ARN)
raises :class:`Conflict` rather than picking one.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from urllib.parse import unquote

# Operations whose IAM action is not named like the operation.
_ACTION_OF = {("lambda", "Invoke"): "lambda:InvokeFunction", ("lambda", "InvokeAsync"): "lambda:InvokeAsync"}


@dataclasses.dataclass(frozen=True)
class Call:
    """One API call as IAM sees it: its service and operation, its parameters, and where it was made."""

    service: str      # the boto3 service name: kinesis, dynamodb, lambda, iam, sts, logs, apigatewayv2
    operation: str    # the API operation, e.g. PutRecords
    method: str       # the HTTP method
    path: str         # the URL path
    params: dict      # the call's parameters (body and URL parameters, one value each)
    region: str
    account: str
    partition: str = "aws"


@dataclasses.dataclass(frozen=True)
class Check:
    """One permission a call needs: ``action`` on any one of ``resources`` (equivalent ARN forms)."""

    action: str
    resources: tuple[str, ...]


class Conflict(ValueError):
    """A call that names what it acts on in two ways that disagree, or by a name no resource can have."""


def checks(call: Call) -> list[Check]:
    """The permissions ``call`` needs; every one must be allowed, and there is always at least one.

    Raises Conflict for a call that does not name one resource of each kind it acts on.
    """
    service = _SERVICES.get(call.service)
    found = service(call) if service is not None else []
    return found or [Check(f"{call.service}:{call.operation}", ("*",))]


def _arn(call, service, resource, region=True, account=True):
    return f"arn:{call.partition}:{service}:{call.region if region else ''}:{call.account if account else ''}:{resource}"


# The characters AWS allows in each kind of name the kit's checks build an ARN from: anything else (a
# "/" or ":" that would make the ARN name something else) is refused, as AWS refuses it.
_NAME = {
    "stream": re.compile(r"[a-zA-Z0-9_.-]{1,128}"),
    "table": re.compile(r"[a-zA-Z0-9_.-]{1,255}"),
    "index": re.compile(r"[a-zA-Z0-9_.-]{1,255}"),
    "function": re.compile(r"[a-zA-Z0-9_-]{1,140}(:(\$LATEST|[a-zA-Z0-9_-]{1,128}))?"),
    "role": re.compile(r"[\w+=,.@-]{1,64}"),
    "user": re.compile(r"[\w+=,.@-]{1,64}"),
    "path": re.compile(r"/|/[\x21-\x7e]{1,510}/"),
    "log group": re.compile(r"[.\-_/#A-Za-z0-9]{1,512}"),
    "log stream": re.compile(r"[^:*]{1,512}"),
    "uuid": re.compile(r"[a-zA-Z0-9-]{1,64}"),
}


def _named(kind, name):
    if not isinstance(name, str) or not _NAME[kind].fullmatch(name):
        raise Conflict(f"{str(name)[:80]!r} is not a {kind} name")
    return name


def _kinesis(call):
    params = call.params
    named = set()
    if params.get("StreamName") is not None:
        named.add(_arn(call, "kinesis", f"stream/{_named('stream', params['StreamName'])}"))
    if params.get("StreamARN") is not None:
        named.add(params["StreamARN"])
    if params.get("ConsumerARN") is not None:
        named.add(params["ConsumerARN"].partition("/consumer/")[0])
    if params.get("ShardIterator") is not None:
        stream = _stream_of_iterator(params["ShardIterator"])
        named.add(_arn(call, "kinesis", f"stream/{_named('stream', stream)}"))
    if len(named) > 1:
        raise Conflict("the request names more than one stream (by name, ARN or shard iterator): name one")
    return [Check(f"kinesis:{call.operation}", (named.pop() if named else "*",))]


def _stream_of_iterator(iterator):
    """moto's shard iterators spell the stream's name (AWS's are opaque; AWS knows the stream from them)."""
    try:
        return base64.b64decode(iterator.encode(), validate=False).decode().split(":")[0] or None
    except (binascii.Error, UnicodeDecodeError, ValueError, AttributeError):
        return None


# A transaction is authorized item by item, as the operation each item performs (AWS's DynamoDB guide,
# "Using IAM with DynamoDB transactions").
_TRANSACTED = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem",
               "Get": "GetItem"}


def _dynamodb(call):
    action = f"dynamodb:{call.operation}"
    params = call.params
    if call.operation in ("TransactWriteItems", "TransactGetItems"):
        found = []
        for item in params.get("TransactItems") or []:
            kinds = [kind for kind in _TRANSACTED if item.get(kind) is not None]
            if len(kinds) != 1:
                raise Conflict("each item of a transaction must hold exactly one action")
            found.append(Check(f"dynamodb:{_TRANSACTED[kinds[0]]}", (_table(call, item[kinds[0]].get("TableName")),)))
        return found
    if call.operation in ("BatchGetItem", "BatchWriteItem"):
        return [Check(action, (_table(call, name),)) for name in sorted(params.get("RequestItems") or {})]
    if params.get("ResourceArn") is not None:
        return [Check(action, (params["ResourceArn"],))]
    if params.get("TableName") is None:
        return [Check(action, ("*",))]
    table = _table(call, params["TableName"])
    index = params.get("IndexName")
    return [Check(action, (f"{table}/index/{_named('index', index)}" if index is not None else table,))]


def _table(call, name):
    """A table's ARN: DynamoDB takes a table's ARN wherever it takes its name."""
    if isinstance(name, str) and name.startswith("arn:"):
        return name
    return _arn(call, "dynamodb", f"table/{_named('table', name)}")


def _lambda(call):
    action = _ACTION_OF.get(("lambda", call.operation), f"lambda:{call.operation}")
    params = call.params
    if call.operation in ("CreateEventSourceMapping", "ListEventSourceMappings", "ListFunctions"):
        resource = "*"  # AWS names no resource for these (see deploy.policies.UNSCOPED)
    elif params.get("UUID") is not None:
        resource = _arn(call, "lambda", f"event-source-mapping:{_named('uuid', params['UUID'])}")
    elif params.get("Resource") is not None:  # tags: the function's ARN in the path
        resource = unquote(params["Resource"])
    elif params.get("FunctionName") is not None:
        resource = _function_arn(call, unquote(params["FunctionName"]))
        if params.get("Qualifier") not in (None, "$LATEST"):  # a version or alias is a resource of its own
            resource += f":{params['Qualifier']}"
    else:
        resource = "*"
    found = [Check(action, (resource,))]
    if call.operation in ("CreateFunction", "UpdateFunctionConfiguration") and params.get("Role") is not None:
        found.append(Check("iam:PassRole", (params["Role"],)))
    return found


def _function_arn(call, name):
    if name.startswith("arn:"):
        return name
    if ":function:" in name:  # a partial ARN: 123456789012:function:my-function
        return f"arn:{call.partition}:lambda:{call.region}:{name}"
    return _arn(call, "lambda", f"function:{_named('function', name)}")


def _iam(call):
    action = f"iam:{call.operation}"
    params = call.params
    if params.get("RoleName") is not None:
        path = _named("path", params.get("Path") or "/") if call.operation == "CreateRole" else "/"
        return [Check(action, (_arn(call, "iam", f"role{path}{_named('role', params['RoleName'])}", region=False),))]
    if params.get("UserName") is not None:
        return [Check(action, (_arn(call, "iam", f"user/{_named('user', params['UserName'])}", region=False),))]
    if params.get("PolicyArn") is not None:
        return [Check(action, (params["PolicyArn"],))]
    return [Check(action, ("*",))]


def _sts(call):
    return [Check(f"sts:{call.operation}", (call.params.get("RoleArn") or "*",))]


def _logs(call):
    action = f"logs:{call.operation}"
    params = call.params
    group = params.get("logGroupName")
    identifier = params.get("logGroupIdentifier")
    if group is not None and identifier is not None:
        raise Conflict("the request names its log group twice (logGroupName and logGroupIdentifier): name it once")
    if identifier is not None:
        if identifier.startswith("arn:"):
            return [Check(action, (identifier, identifier.removesuffix(":*") + ":*"))]
        group = identifier
    if group is None:
        return [Check(action, (_arn(call, "logs", "log-group:*"),))]
    arn = _arn(call, "logs", f"log-group:{_named('log group', group)}")
    stream = params.get("logStreamName")
    if stream is not None:
        return [Check(action, (f"{arn}:log-stream:{_named('log stream', stream)}", f"{arn}:*"))]
    # A log group's ARN is written both ways (DescribeLogGroups answers with the ":*" form): either grants it.
    return [Check(action, (arn, f"{arn}:*"))]


def _apigatewayv2(call):
    """API Gateway authorizes by HTTP method on the resource's path, e.g. apigateway:POST on /apis."""
    path = call.path[len("/v2"):] if call.path.startswith("/v2/") else call.path
    return [Check(f"apigateway:{call.method.upper()}", (_arn(call, "apigateway", path, account=False),))]


_SERVICES = {
    "kinesis": _kinesis,
    "dynamodb": _dynamodb,
    "lambda": _lambda,
    "iam": _iam,
    "sts": _sts,
    "logs": _logs,
    "apigatewayv2": _apigatewayv2,
}
