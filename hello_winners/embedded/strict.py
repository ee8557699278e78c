"""What makes moto as strict as AWS where the workshop can go wrong. Runs inside the moto server's process.

- **Closed by default.** Every request must be signed (SigV4) with keys this state folder made
  (hello_winners.embedded.credentials); moto's own control routes (reset, state dump, the auth switch)
  answer nobody, only its read-only health check stays open; no web origin gets a CORS grant.
- **IAM enforced.** Each participant and each function's execution role are held to their policies and
  permissions boundary, conditions included, on the resource each call acts on
  (hello_winners.embedded.authorization), not moto's ``*``, read from the request once, as moto acts on
  it (hello_winners.embedded.binding). A participant is a room's IAM user (hello_winners.deploy.room),
  whose keys this state folder derives (credentials.participant_keys) and registers as the user is made.
  ``HELLO_WINNERS_IAM=off`` switches the policy check off; requests stay signed either way.
- **AWS's timing.** A new role is assumable by Lambda only after ``HELLO_WINNERS_ROLE_DELAY_S``
  seconds (IAM is eventually consistent), so the retry that real AWS needs is exercised offline.
- **The kit stands in for Lambda.** Its identity may assume a role whose trust policy names
  lambda.amazonaws.com, which is how each function runs with its own role's credentials.
"""

from __future__ import annotations

import datetime
import functools
import json
import logging
import os
import posixpath
import re
from typing import Any, Callable
from xml.sax.saxutils import escape

import botocore.session
from moto.awslambda.exceptions import InvalidParameterValueException
from moto.apigatewayv2.models import apigatewayv2_backends
from moto.awslambda.models import LambdaBackend, lambda_backends
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import HTTPException
from moto.core.responses import get_service_model
from moto.core.utils import utcnow
from moto.iam.access_control import AssumedRoleAccessKey, IAMRequest, IAMRequestBase
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import IAMBackend, iam_backends
from moto.sts.models import sts_backends
from moto.utilities.utils import get_partition

from hello_winners.deploy import policies, room
from hello_winners.embedded import authorization, binding, credentials

IAM_ENV = "HELLO_WINNERS_IAM"
ROLE_DELAY_ENV = "HELLO_WINNERS_ROLE_DELAY_S"
# Long enough that a deploy's first CreateFunction (well under a second after its roles, on a cold
# server too) is refused and retried as on AWS, where it often takes longer; short enough for play to
# finish in under 5 s.
DEFAULT_ROLE_DELAY_S = 2.0
LAMBDA_PRINCIPAL = "lambda.amazonaws.com"
# The one moto route anyone may call: GET of the server's configuration, the kit's health check.
HEALTH = ("GET", "/moto-api/config")
# The services the kit uses, by the name requests are signed for; moto serves many more, nobody needs them.
SIGNING_NAMES = ("apigateway", "dynamodb", "iam", "kinesis", "lambda", "logs", "sqs", "sts")
# How far a signature's time may be from the server's clock, as on AWS.
SIGNATURE_SKEW = datetime.timedelta(minutes=15)
SERVED = "API Gateway, CloudWatch Logs, DynamoDB, IAM, Kinesis, Lambda and STS"  # SIGNING_NAMES, as people say them
_JSON_PROTOCOLS = ("json", "rest-json")


def enforced() -> bool:
    """Whether IAM policies are checked (the default); signatures are checked either way."""
    return os.environ.get(IAM_ENV, "enforce").strip().lower() not in ("off", "0", "false", "no")


def role_delay_s() -> float:
    """How long a new role takes to become assumable by Lambda."""
    try:
        return max(0.0, float(os.environ.get(ROLE_DELAY_ENV, DEFAULT_ROLE_DELAY_S)))
    except ValueError:
        return DEFAULT_ROLE_DELAY_S


def guarded(app: Callable) -> Callable:
    """The WSGI app in front of moto: moto's control routes closed, no CORS, nothing unsigned.

    What it refuses, it refuses before the body is read: a request whose Authorization header names no
    key of this server's (:func:`known_key`), a region AWS does not have, or a signature dated more than
    15 minutes from the clock (AWS's limit). moto's answer is never a 500 with an empty body.
    """

    def guard(environ: dict, start_response: Callable) -> Any:
        refused = refused_from_the_headers(environ, start_response)
        if refused is not None:
            return refused
        if (environ.get("REQUEST_METHOD", "GET").upper(), environ.get("PATH_INFO", "")) == HEALTH:
            return app(environ, start_response)
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "")
        query = environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")
        answered = []

        def without_cors(status, headers, exc_info=None):
            answered[:] = [status, [(name, value) for name, value in headers
                                    if not name.lower().startswith("access-control-")], exc_info]
            return lambda data: None  # moto returns its body; nothing writes through here

        try:
            body = b"".join(app(environ, without_cors))
        except Exception:  # noqa: BLE001 - moto failed: say so in the service's error shape, never an empty 500
            logging.getLogger(__name__).exception("moto failed on %s %s", method, path)
            answered[:] = ["500 Internal Server Error", [], None]
            body = b""
        if not body and answered[0].startswith("5"):
            return _refuse(start_response, query, "InternalFailure", "InternalFailure", "the embedded AWS failed on "
                           "this request: its log says why", status=answered[0])
        start_response(*answered)
        return [body]

    return guard


def refused_from_the_headers(environ: dict, start_response: Callable) -> list[bytes] | None:
    """The refusal of a request that its method, path and headers alone condemn (see :func:`guarded`), or None."""
    method = environ.get("REQUEST_METHOD", "GET").upper()
    path = environ.get("PATH_INFO", "")
    query = environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")
    if (method, path) == HEALTH:
        return None
    if _control_route(path):
        return _refuse(start_response, query, "AccessDenied", "the embedded AWS does not serve moto's control routes")
    if method == "OPTIONS":
        return _refuse(start_response, query, "AccessDenied", "the embedded AWS grants no cross-origin access")
    signed_for = signing_name(environ.get("HTTP_AUTHORIZATION", ""))
    if signed_for and signed_for not in SIGNING_NAMES:
        return _not_served(start_response, signed_for)
    refusal = refusal_before_the_body(environ.get("HTTP_AUTHORIZATION", ""), environ.get("HTTP_X_AMZ_DATE", ""))
    return None if refusal is None else _refuse(start_response, query, *refusal)


def refuse(environ: dict, start_response: Callable, status: str, code: str, message: str) -> list[bytes]:
    """An error answer in the error shape of the request's protocol (XML for IAM and STS, else JSON)."""
    query = environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")
    return _refuse(start_response, query, code, code, message, status=status)


def refusal_before_the_body(authorization_header: str, amz_date: str,
                            now: datetime.datetime | None = None) -> tuple | None:
    """Why a request is refused from its headers alone, as (code, query code, message, status), or None.

    Refused: no SigV4 Authorization for a service the kit uses, a key this server did not issue, a region
    AWS does not have, a date missing or more than 15 minutes from ``now``.
    """
    scope = authorization_header.partition("Credential=")[2].partition(",")[0].split("/")
    if len(scope) != 5 or scope[3] not in SIGNING_NAMES or not authorization_header.startswith("AWS4-HMAC-SHA256 "):
        return ("MissingAuthenticationToken", "the embedded AWS answers only requests signed for the services the kit "
                "uses, with its keys: `hello-winners server env` prints them")
    key, day, region = scope[0], scope[1], scope[2]
    if not known_key(key):
        return ("UnrecognizedClient", "InvalidClientTokenId", "the security token included in the request is invalid")
    if region not in _regions():
        return ("InvalidSignature", "SignatureDoesNotMatch",
                f"Credential should be scoped to a valid region, not {region[:40]!r}")
    try:
        signed = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return ("IncompleteSignature", "IncompleteSignature", "the request must carry its time in an X-Amz-Date header")
    if amz_date[:8] != day:
        return ("InvalidSignature", "SignatureDoesNotMatch",
                f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                f"{day[:8]!r} != {amz_date[:8]!r}")
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if abs(now - signed) > SIGNATURE_SKEW:
        return ("InvalidSignature", "SignatureDoesNotMatch",
                f"Signature expired: {amz_date} is now earlier than {(now - SIGNATURE_SKEW):%Y%m%dT%H%M%SZ} "
                f"({now:%Y%m%dT%H%M%SZ} - 15 min.)" if signed < now else
                f"Signature not yet current: {amz_date} is still later than {(now + SIGNATURE_SKEW):%Y%m%dT%H%M%SZ} "
                f"({now:%Y%m%dT%H%M%SZ} + 15 min.)")
    return None


def known_key(access_key_id: str) -> bool:
    """Whether this server issued ``access_key_id``: the state folder's keys, or a role's temporary ones."""
    iam = iam_backends[DEFAULT_ACCOUNT_ID]["aws"]
    if access_key_id in iam.access_keys:
        return True
    return any(role.access_key_id == access_key_id for role in sts_backends[DEFAULT_ACCOUNT_ID]["aws"].assumed_roles)


@functools.cache
def _regions() -> frozenset[str]:
    """Every region AWS has, in every partition: moto keeps a backend for each, and for no other."""
    session = botocore.session.get_session()
    return frozenset(region for partition in session.get_available_partitions()
                     for region in session.get_available_regions("ec2", partition)) | {"aws-global"}


def _control_route(path: str) -> bool:
    """moto's own routes, however the path spells them (``//moto-api``, ``/./moto-api``, ``/x/../moto-api``)."""
    normalized = posixpath.normpath("/" + path.lstrip("/"))
    return normalized.startswith(("/moto-api", "/latest"))


def install() -> None:
    """Patch moto: the authorization of every action, the Lambda trust check, the role delay, and the keys
    of each participant the room gets."""
    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = _authorize
    IAMRequestBase._check_role_trust_relationship = _trusted
    for name in ("create_function", "create_event_source_mapping", "update_function_configuration",
                 "update_event_source_mapping"):
        setattr(LambdaBackend, name, _after_role_check(getattr(LambdaBackend, name)))
    IAMBackend.create_user = _with_participant_keys(IAMBackend.create_user)


def register_identities(account: str, region: str) -> None:
    """Create the kit in moto's IAM, with this state folder's keys and a policy that allows everything.

    The participants are the room's users, made through IAM's API (hello_winners.deploy.room).
    """
    iam = iam_backends[account][get_partition(region)]
    user_name = credentials.USER_NAMES[credentials.KIT]
    iam.create_user(region_name=region, user_name=user_name, path="/", tags=[])
    _register_key(iam, user_name, credentials.keys(credentials.KIT))
    iam.put_user_policy(user_name, credentials.KIT, json.dumps(
        {"Version": policies.VERSION, "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))


def _register_key(iam: Any, user_name: str, keys: credentials.Keys) -> None:
    key = iam.create_access_key(user_name, prefix="AKIA")
    for index, registered in list(iam.access_keys.items()):  # moto indexes keys by their id
        if registered is key:
            del iam.access_keys[index]
    key.access_key_id, key.secret_access_key = keys.aws_access_key_id, keys.aws_secret_access_key
    iam.access_keys[key.access_key_id] = key


def _with_participant_keys(create_user: Callable) -> Callable:
    """A user made under the room's path is a participant: it gets the keys this state folder derives for it."""

    def created(backend: IAMBackend, region_name: str, user_name: str, path: str = "/", *args: Any, **kwargs: Any) -> Any:
        user = create_user(backend, region_name, user_name, path, *args, **kwargs)
        if user.path == room.USER_PATH:
            _register_key(backend, user_name, credentials.participant_keys(user_name))
        return user

    return created


class Refusal(HTTPException):
    """An authentication or authorization failure, in the error shape of the service's protocol."""

    def __init__(self, response: Any, status: int, json_code: str, query_code: str, message: str) -> None:
        super().__init__()
        self.code = status
        json_protocol = _protocol(response) in _JSON_PROTOCOLS
        self.description = _error_body(not json_protocol, json_code if json_protocol else query_code, message)


def _authorize(self: Any, resource: str = "*") -> None:
    """Replaces moto's check: a signature from a known key always, the caller's policies unless switched off.

    moto passes the ``resource`` it determined (``*`` for most services); the checks name their own.
    """
    authorization_header = self.headers.get("Authorization", "")  # present: the guard refuses unsigned requests
    if not (authorization_header.startswith("AWS4-HMAC-SHA256 ")
            and all(part in authorization_header for part in ("Credential=", "SignedHeaders=", "Signature="))):
        raise Refusal(self, 403, "IncompleteSignatureException", "IncompleteSignature",
                      "the request's Authorization header is not an AWS Signature Version 4")
    path = self.raw_path + (f"?{self.parsed_url.query}" if self.parsed_url.query else "")
    # What was signed is the body. werkzeug has already parsed a form body (the query protocol's): then its
    # parameters stand for it, in their order; any other empty body is signed as empty.
    form = self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded")
    try:
        request = IAMRequest(account_id=self.current_account, method=self.method, path=path,
                             data=self.data if form else {},
                             body=self.raw_body, headers=self.headers, action=self._get_action())
        request.check_signature()
    except HTTPException as error:
        unknown = "InvalidClientTokenId" in str(getattr(error, "description", ""))
        raise Refusal(self, 403, "UnrecognizedClientException" if unknown else "InvalidSignatureException",
                      "InvalidClientTokenId" if unknown else "SignatureDoesNotMatch",
                      "the security token included in the request is invalid" if unknown else
                      "the request signature we calculated does not match the signature you provided") from None
    iam = iam_backends[self.current_account][self.partition]
    try:
        reading = binding.read(self)
        found = authorization.checks(_call(self, reading), _Facts(self.current_account, self.region, self.partition))
    except (binding.Unreadable, authorization.Conflict) as error:
        raise Refusal(self, 400, "ValidationException", "ValidationError", str(error)) from None
    if reading.operation.startswith("AssumeRole") and _role_of(iam, reading.params.get("RoleArn", "")) is None:
        raise Refusal(self, 403, "AccessDeniedException", "AccessDenied",
                      f"User: {request._access_key.arn} is not authorized to perform: sts:{reading.operation} on "
                      f"resource: {reading.params.get('RoleArn')}: no such role")
    if not enforced():
        return
    principal = _principal(iam, request._access_key)
    for check in found:
        decision = authorization.decide(principal, check)
        if decision.allowed and check.action.startswith("sts:AssumeRole") and not _trusted(request, check.resources[0]):
            decision = authorization.Decision(False, f"User: {principal.arn} is not authorized to perform: "
                                                     f"{check.action} on resource: {check.resources[0]}: its trust "
                                                     "policy does not name the caller")
        if not decision.allowed:
            raise Refusal(self, 403, "AccessDeniedException", "AccessDenied", decision.reason)


def _principal(iam: Any, access_key: Any) -> authorization.Principal:
    """The caller as IAM evaluates them: a user's policies and those of their groups, with the user's tags;
    or an assumed role's policies, its tags and its permissions boundary. Gone: a principal allowed nothing."""
    try:
        if isinstance(access_key, AssumedRoleAccessKey):
            return _role_principal(iam, iam.get_role(access_key._owner_role_name), access_key.arn)
        user = iam.get_user(access_key._owner_user_name)
        found = [*user.policies.values(), *user.managed_policies.values()]
        for group in iam.get_groups_for_user(user.name):
            found += [*group.policies.values(), *group.managed_policies.values()]
        return authorization.Principal(access_key.arn, _documents(found),
                                       _pairs(iam.tagger.list_tags_for_resource(user.arn)["Tags"]))
    except Exception:  # noqa: BLE001 - moto raises its own NotFound types: no such principal, no permission
        return authorization.Principal(access_key.arn, ())


def _role_principal(iam: Any, role: Any, arn: str) -> authorization.Principal:
    """A role's session: its inline and managed policies, its tags, its permissions boundary."""
    return authorization.Principal(arn, _documents(role.policies.values(), role.managed_policies.values()),
                                   _pairs(role.tags), _boundary_document(iam, role.permissions_boundary_arn))


def _documents(*groups: Any) -> tuple[dict, ...]:
    """Policy documents from moto's forms of them: inline JSON text, or a managed policy (its default version)."""
    return tuple(_parsed(_text(policy)) for group in groups for policy in group)


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> dict:
    """A policy's document, parsed once for every request that is evaluated on it (never changed once read)."""
    return json.loads(text)


def _text(policy: Any) -> str:
    if isinstance(policy, str):
        return policy
    return next(version.document for version in policy.versions if version.is_default)


def _boundary_document(iam: Any, arn: str | None) -> dict | None:
    """The document of a permissions boundary; one that names no existing policy allows nothing."""
    if not arn:
        return None
    try:
        return _parsed(_text(iam.get_policy(arn)))
    except Exception:  # noqa: BLE001 - moto's NotFound: a boundary that does not exist allows nothing
        return {"Version": policies.VERSION, "Statement": []}


def _pairs(tags: Any) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tags or []}


class _Facts:
    """What IAM knows beyond the request, read from moto's state (authorization.Facts)."""

    def __init__(self, account: str, region: str, partition: str) -> None:
        self.account, self.region, self.partition = account, region, partition

    def tags(self, arn: str) -> dict[str, str] | None:
        if ":role/" in arn:
            role = _role_of(iam_backends[self.account][self.partition], arn)
            return _pairs(role.tags) if role is not None else None
        api = re.fullmatch(r"arn:[^:]+:apigateway:[^:]+::/apis/([^/]+)", arn)
        if api:
            backend = apigatewayv2_backends[self.account][self.region]
            found = backend.apis.get(api.group(1))
            return backend.get_tags(found.arn) if found is not None else None
        return None

    def boundary(self, role_arn: str) -> str | None:
        role = _role_of(iam_backends[self.account][self.partition], role_arn)
        return role.permissions_boundary_arn if role is not None else None

    def mapping_function(self, mapping_arn: str) -> str | None:
        mapping = lambda_backends[self.account][self.region]._event_source_mappings.get(mapping_arn.rpartition(":")[2])
        return mapping.function_arn if mapping is not None else None


def _call(response: Any, reading: binding.Reading) -> authorization.Call:
    return authorization.Call(service=response.boto3_service_name, operation=reading.operation,
                              method=response.method, path=response.path, params=reading.params,
                              region=response.region, account=response.current_account,
                              partition=get_partition(response.region))


def _trusted(self: IAMRequestBase, role_arn: str) -> bool:
    """Whether the caller may assume ``role_arn``: the kit, for Lambda, once the role has propagated; anyone
    else only when the trust policy names them (moto's own check fails on a Service principal)."""
    role = _role_of(self.backend, role_arn)
    if role is None:  # AWS grants no credentials for a role that does not exist
        return False
    caller = self._access_key.arn
    if caller.endswith(f":user/{credentials.USER_NAMES[credentials.KIT]}"):
        return _trusts_lambda(role) and _propagated(role)
    return any(statement.get("Effect") == "Allow" and {caller, "*"} & set(_principals(statement, "AWS"))
               for statement in _statements(role.assume_role_policy_document))


def _role_of(iam: Any, role_arn: str) -> Any:
    try:
        return iam.get_role_by_arn(role_arn)
    except Exception:  # noqa: BLE001 - moto raises its own NotFound types
        return None


def _trusts_lambda(role: Any) -> bool:
    return any(statement.get("Effect") == "Allow" and LAMBDA_PRINCIPAL in _principals(statement, "Service")
               and {"sts:AssumeRole", "sts:*", "*"} & set(_listed(statement.get("Action")))
               for statement in _statements(role.assume_role_policy_document))


def _statements(document: str) -> list[dict]:
    statements = json.loads(document).get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _principals(statement: dict, kind: str) -> list[str]:
    principal = statement.get("Principal") or {}
    return _listed(principal.get(kind)) if isinstance(principal, dict) else _listed(principal)


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _propagated(role: Any) -> bool:
    created = role.create_date
    if created.tzinfo is None:
        created = created.replace(tzinfo=datetime.timezone.utc)
    now = utcnow()
    now = now if now.tzinfo else now.replace(tzinfo=datetime.timezone.utc)
    return (now - created).total_seconds() >= role_delay_s()


def _after_role_check(create: Callable) -> Callable:
    """Lambda refuses a role it cannot assume yet, as AWS does while a new role propagates; and a mapping whose
    function's role cannot read the stream, or send to the on-failure destination, as AWS does."""

    def checked(backend: LambdaBackend, *args: Any, **kwargs: Any) -> Any:
        spec = args[-1] if args and isinstance(args[-1], dict) else kwargs.get("spec") or kwargs.get("body") or {}
        role_arn = spec.get("Role")
        if create.__name__ in ("create_event_source_mapping", "update_event_source_mapping"):
            current = backend._event_source_mappings.get(args[0] if len(args) > 1 else kwargs.get("uuid", ""))
            function_name = spec.get("FunctionName") or (current.function_arn if current else "")
            source = spec.get("EventSourceArn") or (current.event_source_arn if current else "")
            function = backend._lambdas.get_function_by_name_or_arn_with_qualifier(function_name)
            role_arn = function.role if create.__name__ == "create_event_source_mapping" else None
            _check_role_reaches(backend, function.role, source, spec.get("DestinationConfig"))
        if role_arn:
            _check_assumable(backend, role_arn)
        return create(backend, *args, **kwargs)

    checked.__name__ = create.__name__
    return checked


def _role(backend: LambdaBackend, role_arn: str) -> Any:
    """The role, or None when it does not exist (moto's own check then names the missing role)."""
    return _role_of(iam_backends[backend.account_id][backend.partition], role_arn)


def _check_assumable(backend: LambdaBackend, role_arn: str) -> None:
    role = _role(backend, role_arn)
    if role is not None and not (_trusts_lambda(role) and _propagated(role)):
        raise InvalidParameterValueException("The role defined for the function cannot be assumed by Lambda.")


def _check_role_reaches(backend: LambdaBackend, role_arn: str, stream_arn: str, destinations: dict | None) -> None:
    """Lambda reads the stream, and sends a batch it gives up on to the on-failure destination, with the
    function's role: a mapping whose role cannot is refused, as on AWS (its policies and boundary, evaluated)."""
    role = _role(backend, role_arn) if enforced() else None
    if role is None:
        return
    principal = _role_principal(iam_backends[backend.account_id][backend.partition], role, role.arn)
    if ":kinesis:" in stream_arn:
        for action in ("kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:ListShards"):
            if not authorization.decide(principal, authorization.Check(action, (stream_arn,))).allowed:
                raise InvalidParameterValueException(
                    f"Cannot access stream {stream_arn}. Please ensure the role can perform the GetRecords, "
                    "GetShardIterator, DescribeStream, and ListShards Actions on your stream in IAM.")
    destination = ((destinations or {}).get("OnFailure") or {}).get("Destination") or ""
    if ":sqs:" in destination and not authorization.decide(
            principal, authorization.Check("sqs:SendMessage", (destination,))).allowed:
        raise InvalidParameterValueException(
            "The provided execution role does not have permissions to call SendMessage on SQS")


def signing_name(authorization_header: str) -> str | None:
    """The service a SigV4 Authorization header was signed for (Credential=KEY/DATE/REGION/SERVICE/aws4_request)."""
    scope = authorization_header.partition("Credential=")[2].partition(",")[0].split("/")
    return scope[3] if len(scope) == 5 else None


def _protocol(response):
    return get_service_model(response.boto3_service_name).protocol


def _refuse(start_response, query, code, query_code=None, message=None, status="403 Forbidden"):
    """An error before (or instead of) moto's answer: XML for the query protocol (IAM, STS), else JSON.

    ``code`` is the JSON protocol's code without its ``Exception`` suffix; ``query_code`` the query
    protocol's, when it differs.
    """
    if message is None:
        query_code, message = code, query_code
    body = _error_body(query, (query_code or code) if query else code + "Exception", message).encode()
    content_type = "text/xml" if query else "application/json"
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def _not_served(start_response, service):
    """A request signed for a service the kit does not serve (``aws s3 ls``): a sentence naming those it does,
    in the error shape of that service's protocol, so the AWS CLI and boto3 show it rather than a bare 403."""
    message = (f"the embedded AWS does not serve {service}: it serves only {SERVED}, the services the kit uses "
               "(use real AWS for anything else)")
    try:
        protocol = get_service_model(service).protocol
    except Exception:  # noqa: BLE001 - a name botocore does not know: answer in JSON
        protocol = "json"
    if protocol == "rest-xml":  # S3's error shape
        body = f"<Error><Code>NotServed</Code><Message>{escape(message)}</Message></Error>".encode()
        content_type = "application/xml"
    else:
        query = protocol not in _JSON_PROTOCOLS
        body = _error_body(query, "NotServed", message).encode()
        content_type = "text/xml" if query else "application/json"
    start_response("403 Forbidden", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def _error_body(query, code, message):
    if not query:
        return json.dumps({"__type": code, "message": message, "Message": message})
    return (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}</Message>"
            "</Error></ErrorResponse>")
