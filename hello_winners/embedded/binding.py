"""One reading of each request: what IAM is asked about is what moto acts on.

moto reads a request's parameters in several ways at once: ``_get_param`` looks in its query-string view
first, then in the JSON body, then in the URL path; that query-string view is filled from a form body,
else from the URL's query, else from a JSON body read as if it were a form, else from the headers. A
field placed in one of those spots and a different one in another made the IAM check read one name
while moto acted on another. So each request is read once, by moto's own parser from the service's
botocore model (what moto uses for the services it parses that way), and refused when another reading
is possible:

- the content type must be the service's own protocol, and the operation one the model names;
- a JSON protocol takes no URL query; the query protocol (IAM, STS) takes its parameters from the URL
  or from the form body, not both; no parameter may come twice, no JSON object may repeat a key;
- every field must be a member of the operation's input shape, at every depth, of the member's type;
- every top-level member moto's handlers can read with ``_get_param`` must read as the parser did.

Then moto's query-string view is set to the request's own query parameters, so no handler can find a
parameter in the body's text or the headers. :func:`read` returns the operation and its parameters;
hello_winners.embedded.authorization decides on them.
"""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict
from typing import Any
from urllib.parse import parse_qsl

from moto.core.parse import PROTOCOL_PARSERS, XFormedDict
from moto.core.request import determine_request_protocol
from moto.core.responses import get_service_model

_JSON_PROTOCOLS = ("json", "rest-json")
_QUERY_CONTROL = ("Action", "Version")


class Unreadable(Exception):
    """A request that cannot be read one way only; the message says what is wrong, in one sentence."""


@dataclasses.dataclass(frozen=True)
class Reading:
    """The operation a request names and its parameters, as the service model reads them."""

    operation: str
    params: dict
    protocol: str


def read(response: Any) -> Reading:
    """Read the request moto's ``response`` object holds once; raise Unreadable when it can be read two ways.

    Also points moto's query-string view at the request's own query parameters (see the module docstring).
    """
    model = get_service_model(response.boto3_service_name)
    request = response.normalized_request
    try:
        protocol = determine_request_protocol(model, request)
    except NotImplementedError:
        protocol = None
    if protocol != model.protocol:
        raise Unreadable(f"the content type {request.content_type or '(none)'!r} is not the one this service "
                         f"takes ({model.protocol} protocol)")
    operation = response._get_action()
    if not operation:
        raise Unreadable("the request names no operation of this service")
    shape = model.operation_model(operation).input_shape
    url = parse_qsl(response.parsed_url.query, keep_blank_values=True)
    _no_repeats(url, "the URL's query")
    if protocol == "query":
        form = list(request.form.items(multi=True))
        _no_repeats(form, "the form body")
        if url and form:
            raise Unreadable("the request carries parameters both in the URL and in the body: send them in one")
        own = form or url
        if sum(1 for name, _ in own if name == "Action") != 1:
            raise Unreadable("the request must name its Action exactly once")
        for name, _ in own:
            if name not in _QUERY_CONTROL:
                _known_query_name(shape, name.split("."), name)
    else:
        own = url
        if protocol == "json" and url:
            raise Unreadable("this service takes its parameters in the JSON body only, not in the URL's query")
        body = _json_body(request.get_data())
        if protocol == "rest-json":
            _known_rest_query(shape, url)
            body_shape = _body_shape(shape)
            if body_shape is not None:
                _walk(body, body_shape, "the body")
        else:
            _walk(body, shape, "the body")
    params = _parsed(model, operation, request, response.uri_match)
    response.querystring = response.data = OrderedDict((name, [value]) for name, value in own)
    if not response.automated_parameter_parsing:
        _as_moto_reads_them(response, shape, params)
    return Reading(operation, params, protocol)


def _parsed(model, operation, request, uri_params):
    parser = PROTOCOL_PARSERS[model.protocol](model.operation_model(operation))
    parsed = parser.parse({"method": request.method, "values": request.values, "headers": request.headers,
                           "body": request.get_data(), "url_path": request.path, "url_params": uri_params})
    return _plain(parsed)


def _plain(value):
    if isinstance(value, XFormedDict):
        value = value.original_dict()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _no_repeats(pairs, where):
    seen = set()
    for name, _ in pairs:
        if name in seen:
            raise Unreadable(f"the parameter {name[:80]!r} comes more than once in {where}")
        seen.add(name)


def _json_body(raw):
    if not raw:
        return {}
    try:
        body = json.loads(raw, object_pairs_hook=_unique_keys)
    except (ValueError, UnicodeDecodeError) as error:
        raise Unreadable(f"the body is not JSON ({str(error)[:120]})") from None
    return body


def _unique_keys(pairs):
    found = {}
    for key, value in pairs:
        if key in found:
            raise Unreadable(f"the JSON key {key[:80]!r} comes more than once in one object")
        found[key] = value
    return found


def _body_shape(shape):
    """The shape the body of a rest-json operation holds, or None when the body is a raw payload (a blob)."""
    if shape is None:
        return None
    payload = shape.serialization.get("payload")
    if payload:
        member = shape.members[payload]
        return None if member.type_name in ("blob", "string") else member
    return shape


_JSON_TYPES = {
    "string": (str,), "blob": (str,), "boolean": (bool,), "integer": (int,), "long": (int,), "short": (int,),
    "byte": (int,), "float": (int, float), "double": (int, float), "timestamp": (int, float, str),
}


def _walk(value, shape, where):
    """Refuse a JSON value that ``shape`` does not describe: an unknown member, or a value of another type."""
    if shape is None:
        if value not in ({}, None):
            raise Unreadable(f"{where} must be empty: this operation takes no parameters there")
        return
    kind = shape.type_name
    if kind == "structure":
        if shape.is_document_type:
            return
        if not isinstance(value, dict):
            raise Unreadable(f"{where} must be a JSON object")
        members = {member.serialization.get("name", name): member for name, member in shape.members.items()
                   if "location" not in member.serialization}
        for key, item in value.items():
            if key not in members:
                raise Unreadable(f"{where} holds {key[:80]!r}, which is not a parameter of this operation")
            if item is not None:
                _walk(item, members[key], f"{key[:80]} in {where}" if where != "the body" else key[:80])
    elif kind == "list":
        if not isinstance(value, list):
            raise Unreadable(f"{where} must be a JSON list")
        for item in value:
            _walk(item, shape.member, where)
    elif kind == "map":
        if not isinstance(value, dict):
            raise Unreadable(f"{where} must be a JSON object")
        for item in value.values():
            _walk(item, shape.value, where)
    else:
        allowed = _JSON_TYPES.get(kind, (object,))
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            raise Unreadable(f"{where} must be a {kind}")


def _known_query_name(shape, parts, name):
    """Refuse a query-protocol parameter name (``Tags.member.1.Key``) the input shape does not have."""
    while shape is not None:
        if not parts:
            return  # a value's own name (an empty list is sent as its bare name)
        kind = shape.type_name
        if kind == "structure":
            members = {member.serialization.get("name", key): member for key, member in shape.members.items()}
            if parts[0] not in members:
                break
            shape, parts = members[parts[0]], parts[1:]
        elif kind == "list":
            step = 1 if shape.serialization.get("flattened") else 2
            if len(parts) < step or not parts[step - 1].isdigit():
                break
            shape, parts = shape.member, parts[step:]
        elif kind == "map":
            if len(parts) < 3 or not parts[1].isdigit() or parts[2] not in ("key", "value"):
                break
            shape, parts = (shape.key if parts[2] == "key" else shape.value), parts[3:]
        else:
            break
    raise Unreadable(f"the parameter {name[:80]!r} is not a parameter of this operation")


def _known_rest_query(shape, pairs):
    members = {} if shape is None else {
        member.serialization.get("name", name): member for name, member in shape.members.items()
        if member.serialization.get("location") == "querystring"}
    if any(member.type_name == "map" for member in members.values()):
        return  # the operation takes any query parameter as a map
    for name, _ in pairs:
        if name not in members:
            raise Unreadable(f"the URL's query holds {name[:80]!r}, which is not a parameter of this operation")


def _as_moto_reads_them(response, shape, params):
    """For services whose handlers read with ``_get_param``: each top-level member must read as parsed."""
    if shape is None:
        return
    for name, member in shape.members.items():
        if member.type_name != "string":
            continue
        seen = response._get_param(name)
        if seen is not None and seen != params.get(name):
            raise Unreadable(f"the parameter {name} reads as two different values")
