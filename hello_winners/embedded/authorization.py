"""What IAM checks for one request: the action and the resource ARN, as AWS's authorization reference says.

moto checks the action of a request but hands its IAM check the resource ``*``, so a policy scoped to a
stage's ARNs would allow nothing, and a policy allowing the wrong table would pass. This module names
the resource each call of the kit's services acts on (the stream, each table of a batch, the function,
the role, the log group, the HTTP API's path) and the extra permission some calls need (passing a role
to Lambda). Pure: the moto side (hello_winners.embedded.strict) turns a request into a :class:`Call`.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
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


def checks(call: Call) -> list[Check]:
    """The permissions ``call`` needs; every one must be allowed."""
    service = _SERVICES.get(call.service)
    if service is None:
        return [Check(f"{call.service}:{call.operation}", ("*",))]
    return service(call)


def _arn(call, service, resource, region=True, account=True):
    return f"arn:{call.partition}:{service}:{call.region if region else ''}:{call.account if account else ''}:{resource}"


def _kinesis(call):
    action = f"kinesis:{call.operation}"
    arn = call.params.get("StreamARN") or call.params.get("ConsumerARN", "").partition("/consumer/")[0]
    name = call.params.get("StreamName") or _stream_of_iterator(call.params.get("ShardIterator"))
    if not arn and name:
        arn = _arn(call, "kinesis", f"stream/{name}")
    return [Check(action, (arn or "*",))]


def _stream_of_iterator(iterator):
    """moto's shard iterators spell the stream's name (AWS's are opaque; AWS knows the stream from them)."""
    if not iterator:
        return None
    try:
        return base64.b64decode(iterator.encode(), validate=False).decode().split(":")[0] or None
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


# A transaction is authorized item by item, as the operation each item performs (AWS's DynamoDB guide,
# "Using IAM with DynamoDB transactions").
_TRANSACTED = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem",
               "Get": "GetItem"}


def _dynamodb(call):
    action = f"dynamodb:{call.operation}"
    if isinstance(call.params.get("TransactItems"), list):
        return [Check(f"dynamodb:{_TRANSACTED[kind]}", (_arn(call, "dynamodb", f"table/{request.get('TableName')}"),))
                for item in call.params["TransactItems"] if isinstance(item, dict)
                for kind, request in item.items() if kind in _TRANSACTED and isinstance(request, dict)]
    if call.params.get("ResourceArn"):
        return [Check(action, (call.params["ResourceArn"],))]
    if isinstance(call.params.get("RequestItems"), dict):
        return [Check(action, (_arn(call, "dynamodb", f"table/{name}"),)) for name in sorted(call.params["RequestItems"])]
    name = call.params.get("TableName")
    if not name:
        return [Check(action, ("*",))]
    table = _arn(call, "dynamodb", f"table/{name}")
    index = call.params.get("IndexName")
    return [Check(action, (f"{table}/index/{index}" if index else table,))]


def _lambda(call):
    action = _ACTION_OF.get(("lambda", call.operation), f"lambda:{call.operation}")
    params = call.params
    if "UUID" in params:
        resource = _arn(call, "lambda", f"event-source-mapping:{params['UUID']}")
    elif "Resource" in params:  # tags: the function's ARN in the path
        resource = unquote(params["Resource"])
    elif "FunctionName" in params and call.operation not in ("CreateEventSourceMapping", "ListEventSourceMappings"):
        resource = _function_arn(call, unquote(params["FunctionName"]))
    else:
        resource = "*"
    found = [Check(action, (resource,))]
    if call.operation in ("CreateFunction", "UpdateFunctionConfiguration") and params.get("Role"):
        found.append(Check("iam:PassRole", (params["Role"],)))
    return found


def _function_arn(call, name):
    if name.startswith("arn:"):
        return name
    if ":function:" in name:  # a partial ARN: 123456789012:function:my-function
        return f"arn:{call.partition}:lambda:{call.region}:{name}"
    return _arn(call, "lambda", f"function:{name}")


def _iam(call):
    action = f"iam:{call.operation}"
    name = call.params.get("RoleName")
    if not name:
        return [Check(action, ("*",))]
    path = call.params.get("Path", "/") if call.operation == "CreateRole" else "/"
    return [Check(action, (_arn(call, "iam", f"role{path}{name}", region=False),))]


def _sts(call):
    return [Check(f"sts:{call.operation}", (call.params.get("RoleArn", "*"),))]


def _logs(call):
    action = f"logs:{call.operation}"
    group = call.params.get("logGroupName")
    if not group:
        return [Check(action, (_arn(call, "logs", "log-group:*"),))]
    arn = _arn(call, "logs", f"log-group:{group}")
    stream = call.params.get("logStreamName")
    if stream:
        return [Check(action, (f"{arn}:log-stream:{stream}", f"{arn}:*"))]
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
