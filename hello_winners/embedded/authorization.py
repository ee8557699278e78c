"""What IAM checks for one request, and whether the caller's policies allow it, as AWS decides.

moto checks the action of a request but hands its IAM check the resource ``*``, and it evaluates no
condition, so a policy scoped to a stage's ARNs would allow nothing, and a policy allowing the wrong
table, or a role without its boundary, would pass. Two pure parts:

- :func:`checks` names the resource each call of the kit's services acts on (the stream, each table of
  a batch, the function, the role, the log group, the HTTP API's path), the extra permission some calls
  need (passing a role to Lambda), and the condition keys of each (the request's tags, the role's
  permissions boundary, the service a role is passed to, the function an event source mapping feeds,
  the HTTP API's tags), reading what the request does not say from :class:`Facts`;
- :func:`decide` evaluates the caller's policies and permissions boundary on one :class:`Check` as
  IAM's evaluation logic does: an explicit deny wins, an allow is needed, and a boundary must allow too;
  with policy variables (``${aws:PrincipalTag/...}``) and the condition operators the kit's policies
  use. A statement that would apply but holds an operator, a condition key or a variable this module
  does not evaluate denies the request and says which: it fails closed.

The moto side (hello_winners.embedded.strict) reads each request once (hello_winners.embedded.binding),
hands the parameters moto acts on here as a :class:`Call`, and the caller's policies as a :class:`Principal`.

Two rules keep :func:`checks` closed: a call yields at least one check (a call that names nothing is
checked on ``*``), and a call that names its resource twice in ways that disagree (a stream by name
and by ARN) raises :class:`Conflict` rather than picking one.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import re
from collections.abc import Mapping
from typing import Protocol
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
    """One permission a call needs: ``action`` on any one of ``resources`` (equivalent ARN forms), with
    the request's condition keys (lower-case names, each to its values)."""

    action: str
    resources: tuple[str, ...]
    context: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict, compare=False)


class Facts(Protocol):
    """What the request does not say but IAM knows: read from the service's state by the moto side."""

    def tags(self, arn: str) -> dict[str, str] | None:
        """The resource's tags, or None when they are not known (an IAM role's, an HTTP API's are)."""

    def boundary(self, role_arn: str) -> str | None:
        """The ARN of the role's permissions boundary, or None when it has none."""

    def mapping_function(self, mapping_arn: str) -> str | None:
        """The ARN of the function an event source mapping feeds, or None when there is no such mapping."""


class _NoFacts:
    def tags(self, arn):
        return None

    def boundary(self, role_arn):
        return None

    def mapping_function(self, mapping_arn):
        return None


NO_FACTS = _NoFacts()


class Conflict(ValueError):
    """A call that names what it acts on in two ways that disagree, or by a name no resource can have."""


def checks(call: Call, facts: Facts = NO_FACTS) -> list[Check]:
    """The permissions ``call`` needs, each with its condition keys; every one must be allowed, and there
    is always at least one.

    Raises Conflict for a call that does not name one resource of each kind it acts on.
    """
    service = _SERVICES.get(call.service)
    found = service(call) if service is not None else []
    return [with_context for check in found or [Check(f"{call.service}:{call.operation}", ("*",))]
            for with_context in _in_context(call, check, facts)]


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
    "queue": re.compile(r"[a-zA-Z0-9_-]{1,80}(\.fifo)?"),
    "account": re.compile(r"[0-9]{12}"),
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
    found = [Check(f"apigateway:{call.method.upper()}", (_arn(call, "apigateway", path, account=False),))]
    if call.params.get("CredentialsArn") is not None:  # a role API Gateway assumes (quick create, integrations)
        found.append(Check("iam:PassRole", (call.params["CredentialsArn"],)))
    return found


def _sqs(call):
    """A queue is named by its URL (``https://host/ACCOUNT/NAME``), or by its name where it is created or looked up."""
    action = f"sqs:{call.operation}"
    params = call.params
    if params.get("QueueUrl") is not None:
        account, name = (str(params["QueueUrl"]).split("/")[-2:] + [""])[:2]
        if not (_NAME["account"].fullmatch(account) and _NAME["queue"].fullmatch(name)):
            raise Conflict(f"{str(params['QueueUrl'])[:80]!r} is not a queue's URL")
        return [Check(action, (f"arn:{call.partition}:sqs:{call.region}:{account}:{name}",))]
    if params.get("QueueName") is not None:
        return [Check(action, (_arn(call, "sqs", _named("queue", params["QueueName"])),))]
    return [Check(action, ("*",))]


_SERVICES = {
    "sqs": _sqs,
    "kinesis": _kinesis,
    "dynamodb": _dynamodb,
    "lambda": _lambda,
    "iam": _iam,
    "sts": _sts,
    "logs": _logs,
    "apigatewayv2": _apigatewayv2,
}


# --- the condition keys of a check -----------------------------------------------------------------

# Actions on a role whose iam:PermissionsBoundary is the role's current boundary (AWS's Service
# Authorization Reference); CreateRole and PutRolePermissionsBoundary take the one the request asks for.
_ROLE_BOUNDARY_ACTIONS = {"iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
                          "iam:DeleteRolePermissionsBoundary"}
_MAPPING_ACTIONS = {"lambda:DeleteEventSourceMapping", "lambda:UpdateEventSourceMapping", "lambda:GetEventSourceMapping"}


def _in_context(call, check, facts):
    """``check`` with its condition keys; a check that depends on two functions (a mapping moved to another)
    becomes one check per function, each of which must be allowed."""
    context = dict(_request_tags(call.params))
    action, params = check.action, call.params
    resource = check.resources[0]
    if action.startswith("iam:") and ":role/" in resource:
        context.update(_tagged(facts.tags(resource), "aws:resourcetag/", "iam:resourcetag/"))
        if action in ("iam:CreateRole", "iam:PutRolePermissionsBoundary"):
            context.update(_one("iam:permissionsboundary", params.get("PermissionsBoundary")))
        elif action in _ROLE_BOUNDARY_ACTIONS:
            context.update(_one("iam:permissionsboundary", facts.boundary(resource)))
        if action in ("iam:AttachRolePolicy", "iam:DetachRolePolicy"):
            context.update(_one("iam:policyarn", params.get("PolicyArn")))
        if action == "iam:PassRole":
            context.update(_one("iam:passedtoservice", _PASSED_TO.get(call.service)))
    elif action == "lambda:AddPermission":
        context.update(_one("lambda:principal", params.get("Principal")))
    elif action == "lambda:CreateEventSourceMapping":
        context.update(_one("lambda:functionarn", params.get("FunctionName") and _function_arn(call, params["FunctionName"])))
    elif action in _MAPPING_ACTIONS:
        functions = [facts.mapping_function(resource)]
        if action == "lambda:UpdateEventSourceMapping" and params.get("FunctionName") is not None:
            functions.append(_function_arn(call, params["FunctionName"]))
        return [dataclasses.replace(check, context={**context, **_one("lambda:functionarn", function)})
                for function in functions]
    elif action.startswith("apigateway:") and re.fullmatch(r"arn:[^:]+:apigateway:[^:]+::/apis/[^/]+", resource):
        context.update(_tagged(facts.tags(resource), "aws:resourcetag/"))
    return [dataclasses.replace(check, context=context)]


# The service a call hands a role to, for iam:PassedToService.
_PASSED_TO = {"lambda": "lambda.amazonaws.com", "apigatewayv2": "apigateway.amazonaws.com"}


def _one(key, value):
    return {key: (str(value),)} if value is not None else {}


def _tagged(tags, *prefixes):
    return {f"{prefix}{key.lower()}": (str(value),) for key, value in (tags or {}).items() for prefix in prefixes}


def _request_tags(params):
    """aws:RequestTag/KEY and aws:TagKeys of the tags a request sets, in any of the services' shapes."""
    tags = params.get("Tags", params.get("tags"))
    if isinstance(tags, dict):
        pairs = list(tags.items())
    elif isinstance(tags, list):
        pairs = [(tag.get("Key"), tag.get("Value")) for tag in tags if isinstance(tag, dict)]
    else:
        return {}
    pairs = [(str(key), "" if value is None else str(value)) for key, value in pairs if key is not None]
    found = {f"aws:requesttag/{key.lower()}": (value,) for key, value in pairs}
    return {**found, "aws:tagkeys": tuple(key for key, _ in pairs)} if pairs else {}


# --- the decision ----------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Principal:
    """Who asks: their ARN, their identity-based policies, their tags, and their permissions boundary."""

    arn: str
    policies: tuple[dict, ...]
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    boundary: dict | None = None


@dataclasses.dataclass(frozen=True)
class Decision:
    """Whether a check is allowed, and why (what AWS would say, or what this module cannot evaluate)."""

    allowed: bool
    reason: str


# The condition operators evaluated (each also with IfExists, and with ForAnyValue: or ForAllValues:).
OPERATORS = ("StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
             "StringNotLike", "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike", "Null")
# The condition keys known, whole or as a prefix ending in "/" (lower case, as IAM compares them).
KEYS = ("aws:principaltag/", "aws:resourcetag/", "aws:requesttag/", "iam:resourcetag/", "aws:tagkeys",
        "iam:permissionsboundary", "iam:passedtoservice", "iam:policyarn", "lambda:functionarn", "lambda:principal")
# The policy variables known: the caller's tags.
VARIABLES = ("aws:principaltag/",)
# Asked of nobody: AWS answers GetCallerIdentity whatever the caller's policies say.
_ALWAYS_ALLOWED = "sts:getcalleridentity"


class _Unevaluable(Exception):
    """A statement that would apply holds what this module does not evaluate: the request is denied."""


def decide(principal: Principal, check: Check) -> Decision:
    """Whether ``principal`` may perform ``check``, by IAM's evaluation logic for one account.

    An explicit deny in any policy or the boundary denies; otherwise an identity policy must allow, and so
    must the boundary when there is one. A statement that matches the action and holds an operator, a
    key or a variable not evaluated here denies, saying which.
    """
    if check.action.lower() == _ALWAYS_ALLOWED:
        return Decision(True, "sts:GetCallerIdentity needs no permission")
    context = {**_tagged(principal.tags, "aws:principaltag/"), **{k.lower(): v for k, v in check.context.items()}}
    try:
        identity = _effect(principal.policies, check, context)
        bounded = _effect((principal.boundary,), check, context) if principal.boundary is not None else "Allow"
    except _Unevaluable as error:
        return Decision(False, f"{_denied(principal, check)}: {error}")
    if "Deny" in (identity, bounded):
        return Decision(False, f"{_denied(principal, check)} with an explicit deny")
    if identity != "Allow":
        return Decision(False, f"{_denied(principal, check)} because no identity-based policy allows the "
                               f"{check.action} action")
    if bounded != "Allow":
        return Decision(False, f"{_denied(principal, check)} because no permissions boundary allows the "
                               f"{check.action} action")
    return Decision(True, "allowed")


def _denied(principal, check):
    return f"User: {principal.arn} is not authorized to perform: {check.action} on resource: {check.resources[0]}"


def _effect(policies, check, context):
    """"Deny" when a statement denies, else "Allow" when one allows, else None (an implicit deny)."""
    effects = set()
    for policy in policies:
        statements = policy.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            if _applies(statement, check, context):
                effects.add(statement.get("Effect"))
    return "Deny" if "Deny" in effects else "Allow" if "Allow" in effects else None


def _applies(statement, check, context):
    if "Action" in statement:
        if not any(_glob(pattern, check.action, fold=True) for pattern in _listed(statement["Action"])):
            return False
    elif not ("NotAction" in statement and not any(_glob(pattern, check.action, fold=True)
                                                   for pattern in _listed(statement["NotAction"]))):
        return False
    conditions = statement.get("Condition", {})
    _evaluable(conditions)
    if "Resource" in statement:
        resources = _resolved_all(_listed(statement["Resource"]), context)
        if not any(_resource_matches(pattern, arn) for pattern in resources for arn in check.resources):
            return False
    elif "NotResource" in statement:
        resources = _resolved_all(_listed(statement["NotResource"]), context)
        if all(any(_resource_matches(pattern, arn) for pattern in resources) for arn in check.resources):
            return False
    else:
        return False
    return all(_holds(operator, key, _listed(values), context)
               for operator, block in conditions.items() for key, values in block.items())


def _evaluable(conditions):
    """Raise _Unevaluable for an operator, key or variable of ``conditions`` not evaluated here."""
    for operator, block in conditions.items():
        if _operator(operator) is None:
            raise _Unevaluable(f"the condition operator {operator} is not one the embedded AWS evaluates")
        for key, values in block.items():
            if not _known(key.lower(), KEYS):
                raise _Unevaluable(f"the condition key {key} is not one the embedded AWS evaluates")
            for value in _listed(values):
                _resolved(str(value), {})


def _operator(name):
    """(set operator or "", base operator, IfExists) of an operator's name, or None when it is unknown."""
    quantifier, _, base = name.rpartition(":")
    if quantifier not in ("", "ForAnyValue", "ForAllValues"):
        return None
    base, if_exists = base.removesuffix("IfExists"), base.endswith("IfExists")  # "IfExists" alone leaves no base
    if base not in OPERATORS or (base == "Null" and (if_exists or quantifier)):
        return None
    return quantifier, base, if_exists


def _known(key, known):
    return any(key == entry or (entry.endswith("/") and key.startswith(entry) and len(key) > len(entry))
               for entry in known)


def _holds(operator, key, values, context):
    quantifier, base, if_exists = _operator(operator)
    present = context.get(key.lower())
    if base == "Null":  # several values are ORed, as for every operator
        return any({"true": present is None, "false": present is not None}.get(str(value).lower(), False)
                   for value in values)
    if present is None:
        return quantifier == "ForAllValues" or if_exists or (base.startswith(("StringNot", "ArnNot")) and not quantifier)
    wanted = _resolved_all([str(value) for value in values], context)
    if len(wanted) < len(values):  # a variable of the condition did not resolve: the condition is false
        return False
    negated = "Not" in base
    matches = [any(_matches(base, pattern, value) for pattern in wanted) for value in present]
    if quantifier == "ForAllValues":
        return all(not match if negated else match for match in matches)
    if quantifier == "ForAnyValue":
        return any(not match if negated else match for match in matches)
    return not any(matches) if negated else any(matches)


def _matches(base, pattern, value):
    if base.startswith("Arn"):
        return _arn_like(pattern, value)
    if "IgnoreCase" in base:
        return pattern.casefold() == value.casefold()
    if base in ("StringLike", "StringNotLike"):
        return _glob(pattern, value)
    return pattern == value


def _resource_matches(pattern, arn):
    return _arn_like(pattern, arn)


def _arn_like(pattern, arn):
    """ARN matching as IAM does it: the six parts of an ARN compared one by one, each with wildcards."""
    if pattern == "*":
        return True
    wanted, given = pattern.split(":", 5), arn.split(":", 5)
    if len(wanted) != 6 or len(given) != 6:
        return False
    return all(_glob(w, g) for w, g in zip(wanted, given, strict=True))


def _glob(pattern, value, fold=False):
    """``*`` any run of characters, ``?`` any one; case-insensitive with ``fold`` (action names)."""
    if fold:
        pattern, value = pattern.lower(), value.lower()
    return _compiled(pattern).fullmatch(value) is not None


@functools.lru_cache(maxsize=4096)
def _compiled(pattern):
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.DOTALL)


_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _resolved_all(templates, context):
    """Each template with its policy variables filled in; one whose variable does not resolve is left out
    (IAM: the element does not match), and so is one whose value would read as a wildcard or an ARN's
    separator. Raises _Unevaluable for a variable not evaluated here."""
    resolved = []
    for template in templates:
        value = _resolved(template, context)
        if value is not None:
            resolved.append(value)
    return resolved


def _resolved(template, context):
    missing = False

    def fill(match):
        nonlocal missing
        name = match.group(1).strip()
        if not _known(name.lower(), VARIABLES):
            raise _Unevaluable(f"the policy variable ${{{name}}} is not one the embedded AWS evaluates")
        values = context.get(name.lower())
        if not values or any(c in values[0] for c in "*?:"):  # absent, or it would read as a pattern: no match
            missing = True
            return ""
        return values[0]

    filled = _VARIABLE.sub(fill, template)
    return None if missing else filled


def _listed(value):
    return [value] if isinstance(value, str) else list(value or [])
