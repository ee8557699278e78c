"""The winner API: the Lambda function behind API Gateway that answers "who is winning?".

It reads what the consumer keeps (the Scores and Contributions tables, named by the same environment
variables) and serves the leaderboard page. It accepts API Gateway HTTP API events (payload 2.0) and
REST API proxy events (payload 1.0). In the Lambda zip it needs boto3 (provided by the runtime),
:mod:`hello_winners.view.tables` for the table names, and ``web/leaderboard.html``. Its IAM policy needs
only dynamodb:Query on the ScoresByRole index and dynamodb:GetItem on Contributions.

Routes (GET; OPTIONS answers CORS preflights):

- ``/scores?role=merchant|photographer&limit=N``: the top N (default 10, 1 to 100) of a role, read by
  one Query on the ``ScoresByRole`` index, never a Scan. ``creator`` is an alias of ``merchant``.
  Order: score descending, then userId ascending. The index gives no order among equal scores, so when
  the cut falls inside a group of equal scores, a second Query reads that group whole to pick the
  lowest userIds; with distinct scores at the cut it is one Query.
- ``/winners``: the leaders of each role, all of them when tied, with a sentence saying who leads.
- ``/contributions?productId=ID``: who added and who photographed a product, and its purchases.
- ``/``: the leaderboard page.

A row of the Scores table the API cannot read (a score that is not a whole number, a name that is
not text: written by hand, or by a consumer with a bug) is left out, not a failure: both answers say
how many (``skipped``), /scores with a sentence (``note``), and the log names the rows, as the consumer
keeps the records it cannot apply.

Bad input gets a 4xx ``{"error": "..."}`` saying what to fix; a DynamoDB failure gets a 500 with a
generic message, the detail going only to the log.
"""

from __future__ import annotations

import decimal
import functools
import importlib.resources
import json
import logging
import os
import re
import threading
from collections.abc import Mapping
from typing import Any

import boto3
import botocore.exceptions

from hello_winners.events import ROLES
from hello_winners.view.board import summary
from hello_winners.view.tables import CONTRIBUTIONS as CONTRIBUTIONS_ENV
from hello_winners.view.tables import SCORES as SCORES_ENV
from hello_winners.view.tables import SCORES_INDEX

__all__ = ["BadRequest", "contribution", "handler", "leaders", "request", "respond", "top_scores"]

ROLE_ALIASES = {"merchant": "merchant", "creator": "merchant", "photographer": "photographer"}
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
MAX_PARAMETER_LENGTH = 256

_ALLOWED = "GET, OPTIONS"
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": _ALLOWED,
    "Access-Control-Allow-Headers": "Content-Type",
}
_JSON = "application/json; charset=utf-8"
_HTML = "text/html; charset=utf-8"
# The page may run its own inline script and style and talk to this API only.
_PAGE_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'"
)
_INTEGER = re.compile(r"[+-]?[0-9]+")

log = logging.getLogger(__name__)
_client = None
_client_lock = threading.Lock()


class Misconfigured(Exception):
    """The function's configuration lacks a table name; the detail goes to the log only."""


class BadRequest(Exception):
    """A request the caller can fix; ``status`` is the HTTP status, ``headers`` extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def handler(event: dict, context: Any) -> dict:
    """Lambda entry point: answer one API Gateway event (payload 2.0 or 1.0)."""
    return respond(event, _dynamodb(), os.environ)


def respond(event: dict, dynamodb: Any, env: Mapping[str, str]) -> dict:
    """Answer ``event`` with the DynamoDB client ``dynamodb`` and table names from the mapping ``env``."""
    try:
        method, path, params = request(event)
        route = _ROUTES.get(path)
        if route is None:
            raise BadRequest(404, f"there is no {path}: use /scores, /winners, /contributions or /")
        if method == "OPTIONS":
            return _response(204, None, {"Access-Control-Max-Age": "600"})
        if method != "GET":
            raise BadRequest(405, f"{path} answers GET only, not {method}", {"Allow": _ALLOWED})
        return route(params, dynamodb, env)
    except BadRequest as error:
        return _response(error.status, {"error": str(error)}, error.headers)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, Misconfigured):
        log.exception("the winner API could not read its tables")
        return _response(500, {"error": "the scores cannot be read right now; try again in a moment"})


def request(event: dict) -> tuple[str, str, dict[str, str]]:
    """(method, path, parameters) of an API Gateway event of either payload version.

    The stage name is removed from the path; repeated parameters are joined by commas, as API Gateway
    does for HTTP APIs, so both payload versions read alike.
    """
    if event.get("version") == "2.0":
        method = event["requestContext"]["http"]["method"]
        path = _without_stage(event.get("rawPath") or "/", event["requestContext"].get("stage"))
        params = event.get("queryStringParameters") or {}
    else:
        method = event["httpMethod"]
        path = event.get("path") or "/"
        multi = event.get("multiValueQueryStringParameters") or {}
        params = {name: ",".join(values) for name, values in multi.items()} or (
            event.get("queryStringParameters") or {}
        )
    return method.upper(), path.rstrip("/") or "/", params


def top_scores(dynamodb: Any, table: str, role: str, limit: int) -> tuple[list[dict], int]:
    """The top ``limit`` scores of ``role``: [{"userId", "name", "score"}], highest first, ties by userId;
    and how many rows met on the way could not be read (left out)."""
    items, unreadable = _query_role(dynamodb, table, role, limit + 1)
    if len(items) > limit and items[limit]["score"] == items[limit - 1]["score"]:
        cut = items[limit]["score"]
        tied, unreadable_tied = _tied(dynamodb, table, role, cut)
        items = [item for item in items if item["score"] > cut] + tied
        unreadable |= unreadable_tied
    return sorted(items, key=_rank)[:limit], _skipped(table, unreadable)


def leaders(dynamodb: Any, table: str, role: str) -> tuple[list[dict], int]:
    """Everyone sharing the highest score of ``role``, by userId ([] when nobody has a score); and how many
    rows met on the way could not be read (left out)."""
    items, unreadable = _query_role(dynamodb, table, role, 2)
    if len(items) == 2 and items[0]["score"] == items[1]["score"]:
        tied, unreadable_tied = _tied(dynamodb, table, role, items[0]["score"])
        return sorted(tied, key=_rank), _skipped(table, unreadable | unreadable_tied)
    return items[:1], _skipped(table, unreadable)


def contribution(dynamodb: Any, table: str, product_id: str) -> dict | None:
    """Who added and who photographed ``product_id``, and its purchases; None when it is unknown."""
    item = dynamodb.get_item(TableName=table, Key={"productId": {"S": product_id}}).get("Item")
    if item is None:
        return None
    return {
        "productId": product_id,
        "merchant": _person(item, "merchant"),
        "photographer": _person(item, "photographer"),
        "purchases": int(item.get("purchases", {"N": "0"})["N"]),
    }


def _scores(params, dynamodb, env):
    role = _role(_parameter(params, "role"))
    limit = _limit(_parameter(params, "limit", required=False))
    scores, skipped = top_scores(dynamodb, _table(env, SCORES_ENV), role, limit)
    note = {"note": _unreadable_note(skipped)} if skipped else {}
    return _response(200, {"role": role, "limit": limit, "scores": scores, "skipped": skipped, **note})


def _winners(params, dynamodb, env):
    found = {role: leaders(dynamodb, _table(env, SCORES_ENV), role) for role in ROLES}
    board = {role: entries for role, (entries, _) in found.items()}
    skipped = {role: count for role, (_, count) in found.items()}
    return _response(200, {**board, "message": summary(board), "skipped": skipped})


def _contributions(params, dynamodb, env):
    product_id = _parameter(params, "productId")
    found = contribution(dynamodb, _table(env, CONTRIBUTIONS_ENV), product_id)
    if found is None:
        raise BadRequest(404, f"no product with id {product_id!r} has been added, photographed or bought yet")
    return _response(200, found)


def _page(params, dynamodb, env):
    return _response(200, _leaderboard_html(), {"Content-Type": _HTML, "Content-Security-Policy": _PAGE_POLICY})


_ROUTES = {"/": _page, "/scores": _scores, "/winners": _winners, "/contributions": _contributions}


def _table(env, variable):
    name = env.get(variable)
    if not name:
        raise Misconfigured(f"the environment variable {variable} is not set: deploy the function with it")
    return name


def _parameter(params, name, required=True):
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise BadRequest(400, f"the parameter {name} is missing: add ?{name}=... to the URL")
        return None
    if len(value) > MAX_PARAMETER_LENGTH:
        raise BadRequest(
            400, f"the parameter {name} is {len(value)} characters long: send at most {MAX_PARAMETER_LENGTH}"
        )
    return value


def _role(value):
    role = ROLE_ALIASES.get(value.lower())
    if role is None:
        raise BadRequest(400, f"unknown role {value!r}: use role=merchant (or creator) or role=photographer")
    return role


def _limit(value):
    if value is None:
        return DEFAULT_LIMIT
    if not _INTEGER.fullmatch(value):
        raise BadRequest(400, f"limit must be a whole number from 1 to {MAX_LIMIT}, not {value!r}")
    limit = int(value)
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(400, f"limit must be from 1 to {MAX_LIMIT}, not {limit}")
    return limit


def _query_role(dynamodb, table, role, count):
    """The first ``count`` items of ``role`` on the index, highest score first (order among ties: any)."""
    return _query(dynamodb, {
        "TableName": table,
        "IndexName": SCORES_INDEX,
        "KeyConditionExpression": "#role = :role",
        "ExpressionAttributeNames": {"#role": "role"},
        "ExpressionAttributeValues": {":role": {"S": role}},
        "ScanIndexForward": False,
    }, limit=count)


def _tied(dynamodb, table, role, score):
    """Every item of ``role`` whose score is exactly ``score``."""
    return _query(dynamodb, {
        "TableName": table,
        "IndexName": SCORES_INDEX,
        "KeyConditionExpression": "#role = :role AND #score = :score",
        "ExpressionAttributeNames": {"#role": "role", "#score": "score"},
        "ExpressionAttributeValues": {":role": {"S": role}, ":score": {"N": str(score)}},
    })


def _query(dynamodb, query, limit=None):
    """(entries, userIds of the rows it cannot read) a Query finds, page after page, until ``limit``
    readable entries (default: all)."""
    items, unreadable = [], set()
    while limit is None or len(items) < limit:
        page = dynamodb.query(**query, **({} if limit is None else {"Limit": limit - len(items)}))
        for item in page.get("Items", []):
            entry = _entry(item)
            if entry is None:
                unreadable.add(item["userId"]["S"])
            else:
                items.append(entry)
        if "LastEvaluatedKey" not in page:
            break
        query = {**query, "ExclusiveStartKey": page["LastEvaluatedKey"]}
    return items, unreadable


def _entry(item):
    """The entry of a Scores row; None when the row cannot be read: a score that is not a whole number,
    or a name that is not text."""
    try:
        user_id = item["userId"]["S"]
        name = item.get("name", {"S": user_id})["S"]
        score = decimal.Decimal(item["score"]["N"])
    except (KeyError, TypeError, decimal.InvalidOperation):
        return None
    if not score.is_finite() or score != score.to_integral_value():
        return None
    return {"userId": user_id, "name": name, "score": int(score)}


def _skipped(table, unreadable):
    """How many rows were left out, named in the log (as data: repr) for whoever mends the table."""
    if unreadable:
        log.warning("%d rows of %s cannot be read and are left out: userIds %r", len(unreadable), table,
                    sorted(unreadable)[:20])
    return len(unreadable)


def _unreadable_note(count):
    rows = "1 row" if count == 1 else f"{count} rows"
    return (f"{rows} of the scores table cannot be read (a score that is not a whole number, or a name that "
            f"is not text) and {'is' if count == 1 else 'are'} left out: the API function's log names them")


def _rank(entry):
    return -entry["score"], entry["userId"]


def _person(item, role):
    if role not in item:
        return None
    user_id = item[role]["S"]
    return {"userId": user_id, "name": item.get(role + "Name", {"S": user_id})["S"]}


def _without_stage(path, stage):
    if stage and stage != "$default" and (path == f"/{stage}" or path.startswith(f"/{stage}/")):
        return path[len(stage) + 1 :] or "/"
    return path


def _response(status, body, headers=None):
    all_headers = {**_CORS, "Content-Type": _JSON, "Cache-Control": "no-store", **(headers or {})}
    if body is None:
        del all_headers["Content-Type"]
        text = ""
    elif isinstance(body, str):
        text = body
    else:
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return {"statusCode": status, "headers": all_headers, "body": text, "isBase64Encoded": False}


@functools.cache
def _leaderboard_html():
    return importlib.resources.files(__package__).joinpath("web/leaderboard.html").read_text(encoding="utf-8")


def _dynamodb():
    """The process's DynamoDB client, made from the environment as Lambda provides it: in Lambda by the
    function's init (the end of this module), so no request pays for it; elsewhere on first use.

    The lock matters only when a local server calls the handler from several threads at once:
    boto3's default session is not safe to build concurrently.
    """
    global _client
    with _client_lock:
        if _client is None:
            _client = boto3.client("dynamodb")
        return _client


if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # set by Lambda (and the kit's local runtime) only
    _dynamodb()
