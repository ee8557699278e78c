"""The policies grant exactly what the code calls: every boto3 call of the kit, its solutions and its lessons.

The code is read, not run: every call of a client's operation (``kinesis.put_record(...)``), of a paginator
or a waiter (``get_paginator("scan")``, ``get_waiter("stream_exists")``, ``pages.items(client, "list_roles",
...)``), every planned call (``Call("iam", "create_role", ...)``) and every call through the consumer's
retrying wrapper (``calls.call("update_item", ...)``), in the package and in the notebooks' code cells. Each
is turned into the IAM actions AWS's Service Authorization Reference names for it, and compared with
what each policy grants, both ways: what is called must be granted, and what is granted must be called.

- the participant (the room policy): everything but the embedded AWS (the kit's own side), the room's
  set-up (the instructor's) and the checkers (which run in moto's in-process mock, never on an account);
- the functions' roles: what their handlers call, and what Lambda does with the role on their behalf.
"""

import ast
import json
import re
from pathlib import Path

import boto3
from botocore import xform_name

from hello_winners.deploy import policies
from hello_winners.deploy.names import Names

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("kinesis", "dynamodb", "iam", "lambda", "apigatewayv2", "sts", "logs", "sqs")
# Where the participant's code is not: the kit's own side, the instructor's, and what runs in moto's mock only.
NOT_THE_PARTICIPANTS = ("hello_winners/embedded/", "hello_winners/deploy/room.py",
                        "hello_winners/workshop/exercises/checks/")
# The handlers, and the modules through which they call DynamoDB.
HANDLERS = ("hello_winners/view/consumer.py", "hello_winners/view/api.py", "hello_winners/view/calls.py",
            "hello_winners/view/requests.py")
# What Lambda itself does with a function's role: the mapping reads the stream and sends a batch it gives
# up on to the on-failure queue; the runtime writes the function's logs.
ON_THE_FUNCTIONS_BEHALF = {*policies.STREAM_READ, "sqs:SendMessage", "logs:CreateLogGroup", "logs:CreateLogStream",
                           "logs:PutLogEvents"}
# Conventional names of the kit's clients.
CLIENT_NAMES = {"kinesis": "kinesis", "dynamodb": "dynamodb", "db": "dynamodb", "iam": "iam", "lam": "lambda",
                "apis": "apigatewayv2", "logs": "logs", "sqs": "sqs", "sts": "sts"}
# Called by the participant's code only where no room was set up: a deploy on an account of one's own creates
# the account's permissions boundary (planner.boundary); on a room's account it exists (room-account made it),
# and the room policy lets a participant read it, never create a policy.
WITHOUT_A_ROOM = {"iam:CreatePolicy"}
TRANSACTED = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}

_SESSION = boto3.session.Session(region_name="us-east-1")
MODELS = {service: _SESSION.client(service).meta.service_model for service in SERVICES}
OPERATIONS = {service: {xform_name(op): op for op in model.operation_names} for service, model in MODELS.items()}


def sources(paths):
    """(where, Python source) of the package's modules under ``paths`` and of the notebooks' code cells."""
    for path in sorted((ROOT / "hello_winners").rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        if paths(where):
            yield where, path.read_text()
    if paths("notebooks/"):
        for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
            cells = json.loads(path.read_text())["cells"]
            lines = [line for cell in cells if cell["cell_type"] == "code"
                     for line in "".join(cell["source"]).splitlines() + [""]
                     if not line.lstrip().startswith(("%", "!"))]
            yield path.relative_to(ROOT).as_posix(), "\n".join(lines)


def operations(code):
    """{(service, operation name)} the sources call, and the kinds of item their transactions write."""
    found, transacted = set(), set()
    for where, source in code:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Dict):
                transacted |= {k.value for k in node.keys if isinstance(k, ast.Constant) and k.value in TRANSACTED}
            if isinstance(node, ast.Call):
                found |= {(where, *call) for call in _called(node)}
    unresolved = [(where, service, op) for where, service, op in found if service is None]
    assert not unresolved, f"name the client these calls use (one of {sorted(CLIENT_NAMES)}): {unresolved}"
    return {(service, op) for _, service, op in found}, transacted


def _called(node):
    function, args = node.func, node.args
    strings = [a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    if isinstance(function, ast.Name) and function.id == "Call" and len(strings) >= 2:  # a planned call
        service, method = strings[:2]
        if service == "kit":
            if method == "wait":
                yield from _waited(_literal(args[2]).get("service"), _literal(args[2]).get("waiter"))
            return
        yield service, OPERATIONS[service][method]
        return
    if not isinstance(function, ast.Attribute):
        return
    receiver, method = ast.unparse(function.value), function.attr
    if method == "get_paginator" and strings:
        yield _service(receiver, strings[0]), _operation(strings[0])
    elif method == "get_waiter" and strings:
        yield from _waited(_service(receiver, None), strings[0])
    elif method == "items" and receiver == "pages" and len(args) >= 2 and isinstance(args[1], ast.Constant):
        yield _service(ast.unparse(args[0]), args[1].value), _operation(args[1].value)
    elif method == "call" and receiver.endswith("calls") and strings:  # the consumer's retrying wrapper
        yield "dynamodb", OPERATIONS["dynamodb"][strings[0]]
    elif any(method in ops for ops in OPERATIONS.values()) and receiver not in ("checks", "solutions"):
        yield _service(receiver, method), _operation(method)


def _literal(node):
    """The constant entries of a dict display ({"service": "lambda", "FunctionName": name} gives the first)."""
    if not isinstance(node, ast.Dict):
        return {}
    return {k.value: v.value for k, v in zip(node.keys, node.values, strict=True)
            if isinstance(k, ast.Constant) and isinstance(v, ast.Constant)}


def _operation(method):
    return next(ops[method] for ops in OPERATIONS.values() if method in ops)


def _service(receiver, method):
    named = re.search(r"\[['\"](\w+)['\"]\]$", receiver) or re.search(r"client\(['\"](\w+)['\"]\)$", receiver)
    if named:
        return named.group(1)
    last = receiver.rpartition(".")[2]
    if last in CLIENT_NAMES:
        return CLIENT_NAMES[last]
    owners = [service for service, ops in OPERATIONS.items() if method in ops]
    return owners[0] if len(owners) == 1 else None


def _waited(service, waiter):
    """The operation a waiter polls (a waiter's name tells its service when the client's does not)."""
    owners = [service] if service else [s for s in SERVICES if waiter in _SESSION.client(s).waiter_names]
    yield (owners[0], _SESSION.client(owners[0]).get_waiter(waiter).config.operation) if len(owners) == 1 else (None, waiter)


def actions(called, transacted):
    """The IAM actions of the calls, as AWS's Service Authorization Reference names them."""
    found = set()
    for service, operation in called:
        if (service, operation) == ("sts", "GetCallerIdentity"):
            continue  # needs no permission
        if service == "apigatewayv2":
            found.add(f"apigateway:{MODELS[service].operation_model(operation).http['method']}")
        elif (service, operation) == ("dynamodb", "TransactWriteItems"):
            found |= {f"dynamodb:{TRANSACTED[kind]}" for kind in transacted}
        elif (service, operation) == ("lambda", "Invoke"):
            found.add("lambda:InvokeFunction")
        else:
            found.add(f"{service}:{operation}")
        if (service, operation) in (("lambda", "CreateFunction"), ("lambda", "UpdateFunctionConfiguration")):
            found.add("iam:PassRole")
    return found


def granted(*documents):
    return {action for document in documents for statement in document["Statement"] for action in statement["Action"]}


def test_the_room_policy_grants_exactly_what_the_participants_code_calls():
    called = actions(*operations(sources(lambda where: not where.startswith(NOT_THE_PARTICIPANTS)))) - WITHOUT_A_ROOM
    room = granted(policies.room())
    assert not called - room, f"called but not granted: {sorted(called - room)}"
    assert not room - called, f"granted but never called: {sorted(room - called)}"


def test_the_functions_roles_grant_exactly_what_their_handlers_and_lambda_call():
    names = Names("hw-alice-", "us-east-1", "123456789012")
    called = actions(*operations(sources(lambda where: where in HANDLERS)))
    roles = granted(policies.consumer(names), policies.api(names))
    assert not called - roles, f"called but not granted: {sorted(called - roles)}"
    assert not roles - called - ON_THE_FUNCTIONS_BEHALF, f"granted but never called: {sorted(roles - called)}"
    assert granted(policies.boundary()) == roles  # the boundary allows no more than the roles need


def test_the_walk_finds_calls_in_every_form_the_kit_writes_them():
    """The reader is not blind: each form of call in a made-up module is found as the operation it makes."""
    code = [("example.py", """
kinesis.put_record(StreamName="s", Data=b"", PartitionKey="p")
clients["lambda"].delete_function(FunctionName="f")
dynamodb.get_paginator("scan").paginate(TableName="t")
kinesis.get_waiter("stream_exists").wait(StreamName="s")
pages.items(iam, "list_roles", "Roles")
Call("sqs", "create_queue", {"QueueName": "q"}, "create it")
Call("kit", "wait", {"service": "lambda", "waiter": "function_active_v2", "FunctionName": "f"}, "wait")
self.calls.call("batch_get_item", RequestItems={})
dynamodb.transact_write_items(TransactItems=[{"Update": {}}])
apis.delete_api(ApiId="a")
""")]
    assert actions(*operations(code)) == {
        "kinesis:PutRecord", "lambda:DeleteFunction", "dynamodb:Scan", "kinesis:DescribeStream", "iam:ListRoles",
        "sqs:CreateQueue", "lambda:GetFunction", "dynamodb:BatchGetItem", "dynamodb:UpdateItem", "apigateway:DELETE"}
