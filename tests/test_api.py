"""The winner API handler: every route and every bad input, against moto tables in process."""

import contextlib
import json
import logging
from decimal import Decimal

import boto3
import moto
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from properties import examples

from hello_winners.view import api, tables

PREFIX = "hw-test-"


@pytest.fixture(scope="module")
def aws():
    """One in-process moto AWS with the kit's tables for the module: (client, table environment)."""
    with moto.mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        yield client, tables.create(client, PREFIX)


@pytest.fixture
def env(aws):
    return aws[1]


@pytest.fixture
def dynamodb(aws, env):
    """The client, with the Scores and Contributions tables emptied for the test."""
    client = aws[0]
    empty(client, env)
    return client


def empty(client, env):
    for variable in (tables.SCORES, tables.CONTRIBUTIONS):
        for item in client.scan(TableName=env[variable])["Items"]:
            client.delete_item(TableName=env[variable], Key={name: item[name] for name in tables.keys(variable)})


def http_event(method, path, params=None, stage="$default"):
    """An API Gateway HTTP API (payload 2.0) event."""
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (params or {}).items()),
        "headers": {"host": "example.test"},
        "requestContext": {"http": {"method": method, "path": path, "sourceIp": "127.0.0.1"}, "stage": stage},
        "isBase64Encoded": False,
    }
    if params:
        event["queryStringParameters"] = params
    return event


def rest_event(method, path, params=None):
    """An API Gateway REST API proxy (payload 1.0) event."""
    params = params or {}
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"Host": "example.test"},
        "queryStringParameters": {k: v[-1] if isinstance(v, list) else v for k, v in params.items()} or None,
        "multiValueQueryStringParameters": {k: v if isinstance(v, list) else [v] for k, v in params.items()}
        or None,
        "requestContext": {"httpMethod": method, "path": "/prod" + path, "stage": "prod"},
        "body": None,
        "isBase64Encoded": False,
    }


EVENTS = pytest.mark.parametrize("make_event", [http_event, rest_event], ids=["payload-2.0", "payload-1.0"])


def call(dynamodb, env, event):
    """The response, with its JSON body decoded when it is JSON."""
    response = api.respond(event, dynamodb, env)
    is_json = response["headers"].get("Content-Type", "").startswith("application/json")
    body = json.loads(response["body"]) if is_json else response["body"]
    return response["statusCode"], response["headers"], body


def put_scores(env, rows):
    """Store Scores items from (userId, role, score, name) rows, as the consumer would."""
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(env[tables.SCORES])
    with table.batch_writer() as batch:
        for user_id, role, score, name in rows:
            batch.put_item(Item={"userId": user_id, "role": role, "score": score, "name": name})


def entry(user_id, score, name=None):
    return {"userId": user_id, "name": name or user_id.title(), "score": score}


def put_unreadable(env, *rows):
    """Store Scores items the API cannot read (a name that is not text) from (userId, role, score) rows."""
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(env[tables.SCORES])
    with table.batch_writer() as batch:
        for user_id, role, score in rows:
            batch.put_item(Item={"userId": user_id, "role": role, "score": score, "name": 42})


def warnings_logged(caplog):
    return [r.getMessage() for r in caplog.records if r.name == api.__name__ and r.levelno == logging.WARNING]


@contextlib.contextmanager
def queries_made(dynamodb):
    """The KeyConditionExpression of every Query made in the block."""
    queries = []

    def hook(params, **_):
        queries.append(params["KeyConditionExpression"])

    dynamodb.meta.events.register("provide-client-params.dynamodb.Query", hook)
    try:
        yield queries
    finally:
        dynamodb.meta.events.unregister("provide-client-params.dynamodb.Query", hook)


# --- /scores ---------------------------------------------------------------------------------------


@EVENTS
def test_scores_lists_the_top_of_a_role_highest_first_with_ints(dynamodb, env, make_event):
    put_scores(env, [("ana", "merchant", 3, "Ana"), ("bo", "merchant", 7, "Bo"), ("cy", "photographer", 9, "Cy")])
    status, headers, body = call(dynamodb, env, make_event("GET", "/scores", {"role": "merchant"}))
    assert status == 200
    assert body == {"role": "merchant", "limit": 10, "scores": [entry("bo", 7), entry("ana", 3)], "skipped": 0}
    assert headers["Access-Control-Allow-Origin"] == "*"


def test_scores_default_limit_is_ten_and_limit_picks_the_top(dynamodb, env):
    put_scores(env, [(f"u{i:02d}", "photographer", 100 - i, f"P{i}") for i in range(30)])
    _, _, default = call(dynamodb, env, http_event("GET", "/scores", {"role": "photographer"}))
    _, _, three = call(dynamodb, env, http_event("GET", "/scores", {"role": "photographer", "limit": "3"}))
    assert [e["score"] for e in default["scores"]] == list(range(100, 90, -1))
    assert [e["userId"] for e in three["scores"]] == ["u00", "u01", "u02"]


@pytest.mark.parametrize("limit", ["1", "100", "+5", "007"])
def test_scores_accepts_every_limit_from_1_to_100(dynamodb, env, limit):
    put_scores(env, [(f"u{i:03d}", "merchant", i + 1, "M") for i in range(120)])
    status, _, body = call(dynamodb, env, http_event("GET", "/scores", {"role": "merchant", "limit": limit}))
    assert status == 200
    assert len(body["scores"]) == int(limit) == body["limit"]


@pytest.mark.parametrize("alias", ["creator", "Merchant", "CREATOR"])
def test_creator_is_the_merchant_role_as_in_the_original(dynamodb, env, alias):
    put_scores(env, [("ana", "merchant", 2, "Ana")])
    status, _, body = call(dynamodb, env, http_event("GET", "/scores", {"role": alias}))
    assert (status, body["role"], body["scores"]) == (200, "merchant", [entry("ana", 2)])


def test_scores_of_a_role_nobody_has_yet_is_an_empty_list(dynamodb, env):
    status, _, body = call(dynamodb, env, http_event("GET", "/scores", {"role": "photographer"}))
    assert (status, body["scores"]) == (200, [])


def test_ties_at_the_cut_are_resolved_by_user_id(dynamodb, env):
    put_scores(env, [("zed", "merchant", 9, "Zed")] + [(f"t{i}", "merchant", 5, f"T{i}") for i in (7, 3, 9, 1, 5)])
    _, _, body = call(dynamodb, env, http_event("GET", "/scores", {"role": "merchant", "limit": "3"}))
    assert [e["userId"] for e in body["scores"]] == ["zed", "t1", "t3"]


@settings(max_examples=examples(10), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    scores=st.dictionaries(st.text("abcdef", min_size=1, max_size=4), st.integers(1, 6), max_size=30),
    limit=st.integers(1, 12),
)
def test_scores_are_always_score_descending_then_user_id_ascending(dynamodb, env, scores, limit):
    empty(dynamodb, env)
    put_scores(env, [(user, "merchant", score, user.upper()) for user, score in scores.items()])
    _, _, body = call(dynamodb, env, http_event("GET", "/scores", {"role": "merchant", "limit": str(limit)}))
    expected = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))[:limit]
    assert [(e["userId"], e["score"]) for e in body["scores"]] == expected


@pytest.mark.parametrize("bad", [{"score": Decimal("6.5")}, {"name": 42}, {"name": b"\x00"},
                                 {"name": {"nested": "map"}}],
                         ids=["fractional-score", "numeric-name", "binary-name", "map-name"])
def test_a_row_the_api_cannot_read_is_skipped_and_counted_not_a_502(dynamodb, env, bad, caplog):
    put_scores(env, [("ana", "merchant", 3, "Ana"), ("bo", "merchant", 7, "Bo"), ("cy", "merchant", 5, "Cy")])
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(env[tables.SCORES])
    table.put_item(Item={"userId": "odd", "role": "merchant", "score": 6, "name": "Odd", **bad})
    with caplog.at_level(logging.WARNING):
        status, _, body = call(dynamodb, env, http_event("GET", "/scores", {"role": "merchant", "limit": "2"}))
        _, _, winners = call(dynamodb, env, http_event("GET", "/winners"))
    assert (status, body["scores"], body["skipped"]) == (200, [entry("bo", 7), entry("cy", 5)], 1)
    assert body["note"] == ("1 row of the scores table cannot be read (a score that is not a whole number, or a name "
                            "that is not text) and is left out: the API function's log names them")
    assert (winners["merchant"], winners["skipped"]) == ([entry("bo", 7)], {"merchant": 1, "photographer": 0})
    # The row and its table are named in the log, for whoever fixes the table; once per answer.
    logged = warnings_logged(caplog)
    assert len(logged) == 2 and all(f"of {env[tables.SCORES]} cannot be read" in line and line.endswith(
        "userIds ['odd']") for line in logged), logged


def test_unreadable_rows_tied_at_the_cut_are_counted_once(dynamodb, env, caplog):
    put_scores(env, [("ana", "merchant", 4, "Ana"), ("bo", "merchant", 4, "Bo"), ("cy", "merchant", 4, "Cy")])
    put_unreadable(env, ("odd", "merchant", 4))
    with caplog.at_level(logging.WARNING):
        _, _, body = call(dynamodb, env, http_event("GET", "/scores", {"role": "merchant", "limit": "2"}))
        _, _, winners = call(dynamodb, env, http_event("GET", "/winners"))
    assert ([e["userId"] for e in body["scores"]], body["skipped"]) == (["ana", "bo"], 1)
    assert ([e["userId"] for e in winners["merchant"]], winners["skipped"]["merchant"]) == (["ana", "bo", "cy"], 1)
    assert all(f" of {env[tables.SCORES]} cannot be read" in line for line in warnings_logged(caplog))


def test_an_unreadable_row_above_a_tie_is_counted_with_those_of_the_tie(dynamodb, env):
    """The row is met by the first Query only, the tie read by the second: both answers count it."""
    put_scores(env, [("ana", "merchant", 4, "Ana"), ("bo", "merchant", 4, "Bo"), ("cy", "merchant", 4, "Cy")])
    put_unreadable(env, ("odd", "merchant", 9))
    _, _, body = call(dynamodb, env, http_event("GET", "/scores", {"role": "merchant", "limit": "2"}))
    _, _, winners = call(dynamodb, env, http_event("GET", "/winners"))
    assert ([e["userId"] for e in body["scores"]], body["skipped"]) == (["ana", "bo"], 1)
    assert ([e["userId"] for e in winners["merchant"]], winners["skipped"]["merchant"]) == (["ana", "bo", "cy"], 1)


def test_an_unreadable_row_below_the_top_asked_for_is_not_reported(dynamodb, env):
    """Nothing was left out of the top 2, so the answer says none was (no note)."""
    put_scores(env, [("ana", "merchant", 9, "Ana"), ("bo", "merchant", 5, "Bo"), ("cy", "merchant", 4, "Cy")])
    put_unreadable(env, ("odd", "merchant", 3))
    _, _, body = call(dynamodb, env, http_event("GET", "/scores", {"role": "merchant", "limit": "2"}))
    assert body == {"role": "merchant", "limit": 2, "scores": [entry("ana", 9), entry("bo", 5)], "skipped": 0}


def test_many_unreadable_rows_are_all_counted_and_the_log_names_the_first_twenty(dynamodb, env, caplog):
    odd = [f"odd-{i:02d}" for i in range(22)]
    put_unreadable(env, *((user_id, "merchant", 100 + i) for i, user_id in enumerate(odd)))
    put_scores(env, [("ana", "merchant", 1, "Ana")])
    with caplog.at_level(logging.WARNING):
        _, _, body = call(dynamodb, env, http_event("GET", "/scores", {"role": "merchant", "limit": "1"}))
    assert (body["scores"], body["skipped"]) == ([entry("ana", 1)], 22)
    assert body["note"] == ("22 rows of the scores table cannot be read (a score that is not a whole number, or a "
                            "name that is not text) and are left out: the API function's log names them")
    assert warnings_logged(caplog) == [f"22 rows of {env[tables.SCORES]} cannot be read and are left out: "
                                       f"userIds {odd[:20]!r}"]


def test_a_row_without_a_name_is_listed_under_its_user_id(dynamodb, env):
    """A consumer of one's own may write no name: the userId stands for it, the row is not left out."""
    dynamodb.put_item(TableName=env[tables.SCORES],
                      Item={"userId": {"S": "ana"}, "role": {"S": "merchant"}, "score": {"N": "3"}})
    _, _, body = call(dynamodb, env, http_event("GET", "/scores", {"role": "merchant"}))
    _, _, winners = call(dynamodb, env, http_event("GET", "/winners"))
    assert (body["scores"], body["skipped"]) == ([entry("ana", 3, "ana")], 0)
    assert winners["merchant"] == [entry("ana", 3, "ana")]


# --- /winners --------------------------------------------------------------------------------------


def test_winners_says_nobody_has_sold_anything_yet_when_empty(dynamodb, env):
    status, _, body = call(dynamodb, env, http_event("GET", "/winners"))
    assert status == 200
    assert body == {"merchant": [], "photographer": [], "message": "Nobody has sold anything yet.",
                    "skipped": {"merchant": 0, "photographer": 0}}


def test_winners_names_the_leader_of_each_role(dynamodb, env):
    put_scores(env, [("ana", "merchant", 3, "Ana"), ("bo", "merchant", 7, "Bo"), ("cy", "photographer", 1, "Cy")])
    _, _, body = call(dynamodb, env, http_event("GET", "/winners"))
    assert body["merchant"] == [entry("bo", 7)]
    assert body["photographer"] == [entry("cy", 1)]
    assert body["message"] == "Bo leads the merchants with 7 sales. Cy leads the photographers with 1 sale."


def test_winners_with_one_leader_per_role_costs_one_query_per_role(dynamodb, env):
    put_scores(env, [("ana", "merchant", 3, "Ana"), ("bo", "merchant", 7, "Bo"), ("cy", "photographer", 1, "Cy")])
    with queries_made(dynamodb) as queries:
        _, _, body = call(dynamodb, env, http_event("GET", "/winners"))
    assert (body["merchant"], queries) == ([entry("bo", 7)], ["#role = :role", "#role = :role"])


@EVENTS
def test_winners_lists_everyone_tied_at_the_top(dynamodb, env, make_event):
    put_scores(env, [("cy", "merchant", 4, "Cy"), ("ana", "merchant", 4, "Ana"), ("bo", "merchant", 4, "Bo"),
                     ("dee", "merchant", 2, "Dee")])
    _, _, body = call(dynamodb, env, make_event("GET", "/winners"))
    assert body["merchant"] == [entry("ana", 4), entry("bo", 4), entry("cy", 4)]
    assert body["photographer"] == []
    assert body["message"] == (
        "Ana, Bo and Cy share the lead of the merchants with 4 sales each. No photographer has sold anything yet."
    )


# --- /contributions --------------------------------------------------------------------------------


@EVENTS
def test_contributions_says_who_added_and_photographed_a_product(dynamodb, env, make_event):
    dynamodb.put_item(TableName=env[tables.CONTRIBUTIONS], Item={
        "productId": {"S": "p-1"}, "merchant": {"S": "ana"}, "merchantName": {"S": "Ana"},
        "photographer": {"S": "cy"}, "photographerName": {"S": "Cy"}, "purchases": {"N": "12"}})
    status, _, body = call(dynamodb, env, make_event("GET", "/contributions", {"productId": "p-1"}))
    assert status == 200
    assert body == {"productId": "p-1", "merchant": {"userId": "ana", "name": "Ana"},
                    "photographer": {"userId": "cy", "name": "Cy"}, "purchases": 12}


def test_contributions_of_a_product_bought_before_anyone_added_it(dynamodb, env):
    dynamodb.put_item(TableName=env[tables.CONTRIBUTIONS], Item={"productId": {"S": "p-2"}, "purchases": {"N": "3"}})
    _, _, body = call(dynamodb, env, http_event("GET", "/contributions", {"productId": "p-2"}))
    assert body == {"productId": "p-2", "merchant": None, "photographer": None, "purchases": 3}


def test_contributions_without_names_or_purchases_read_as_user_ids_and_zero(dynamodb, env):
    """A consumer of one's own may write who added a product but no name, and no purchases before the first."""
    dynamodb.put_item(TableName=env[tables.CONTRIBUTIONS], Item={
        "productId": {"S": "p-3"}, "merchant": {"S": "ana"}, "photographer": {"S": "cy"}})
    _, _, body = call(dynamodb, env, http_event("GET", "/contributions", {"productId": "p-3"}))
    assert body == {"productId": "p-3", "merchant": {"userId": "ana", "name": "ana"},
                    "photographer": {"userId": "cy", "name": "cy"}, "purchases": 0}


def test_contributions_of_an_unknown_product_is_a_404_that_names_it(dynamodb, env):
    status, _, body = call(dynamodb, env, http_event("GET", "/contributions", {"productId": "nope"}))
    assert status == 404
    assert "'nope'" in body["error"]


# --- the page --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path, stage", [("/", "$default"), ("/prod/", "prod"), ("/prod", "prod")])
def test_the_root_serves_the_leaderboard_page_also_under_a_stage(dynamodb, env, path, stage):
    status, headers, body = call(dynamodb, env, http_event("GET", path, stage=stage))
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>Hello, Retail! winners</title>" in body
    assert "connect-src 'self'" in headers["Content-Security-Policy"]


@EVENTS
def test_an_event_without_a_path_is_the_root_as_the_lambda_consoles_test_events_are(dynamodb, env, make_event):
    event = make_event("GET", "/")
    event["rawPath" if "rawPath" in event else "path"] = ""
    status, _, body = call(dynamodb, env, event)
    assert status == 200 and "<title>Hello, Retail! winners</title>" in body


def test_the_page_loads_nothing_from_elsewhere(dynamodb, env):
    _, _, body = call(dynamodb, env, http_event("GET", "/"))
    assert "http://" not in body.replace("http://www.w3.org/2000/svg", "")
    for forbidden in ("https://", "<link", "@import", " src=", ".innerHTML", "insertAdjacentHTML", "document.write"):
        assert forbidden not in body


@pytest.mark.parametrize("path", ["/prod/scores", "/scores", "/prod/scores/", "/scores/"],
                         ids=["stage-in-path", "custom-domain", "stage-trailing-slash", "trailing-slash"])
def test_a_stage_path_reaches_the_api_routes(dynamodb, env, path):
    """A named stage's URL holds the stage; a custom domain's does not, though the event names the stage."""
    status, _, body = call(dynamodb, env, http_event("GET", path, {"role": "merchant"}, stage="prod"))
    assert (status, body["scores"]) == (200, [])


def test_the_default_stage_is_served_from_the_root_only(dynamodb, env):
    status, _, body = call(dynamodb, env, http_event("GET", "/$default/scores", {"role": "merchant"}))
    assert (status, body["error"]) == (404, "there is no /$default/scores: use /scores, /winners, /contributions or /")


# --- bad input -------------------------------------------------------------------------------------

BAD_REQUESTS = [
    ("GET", "/scores", {"role": "customer"}, 400, "unknown role 'customer'"),
    ("GET", "/scores", {"role": "merchant,photographer"}, 400, "unknown role"),
    ("GET", "/scores", {}, 400, "parameter role is missing"),
    ("GET", "/scores", {"role": ""}, 400, "parameter role is missing"),
    ("GET", "/scores", {"role": "merchant", "limit": "ten"}, 400, "limit must be a whole number from 1 to 100"),
    ("GET", "/scores", {"role": "merchant", "limit": "2.5"}, 400, "limit must be a whole number"),
    ("GET", "/scores", {"role": "merchant", "limit": "0"}, 400, "limit must be from 1 to 100, not 0"),
    ("GET", "/scores", {"role": "merchant", "limit": "101"}, 400, "limit must be from 1 to 100, not 101"),
    ("GET", "/scores", {"role": "merchant", "limit": "-4"}, 400, "limit must be from 1 to 100, not -4"),
    ("GET", "/scores", {"role": "m" * 257}, 400, "role is 257 characters long: send at most 256"),
    ("GET", "/scores", {"role": "merchant", "limit": "1" * 300}, 400, "limit is 300 characters long"),
    ("GET", "/contributions", {}, 400, "parameter productId is missing"),
    ("GET", "/contributions", {"productId": "p" * 257}, 400, "productId is 257 characters long"),
    ("GET", "/leaderboard", {}, 404, "there is no /leaderboard"),
    ("GET", "/scores/merchant", {}, 404, "there is no /scores/merchant"),
    ("GET", "/winnersX", {}, 404, "there is no /winnersX"),
    ("POST", "/scores", {"role": "merchant"}, 405, "/scores answers GET only, not POST"),
    ("DELETE", "/winners", {}, 405, "answers GET only, not DELETE"),
    ("PUT", "/", {}, 405, "answers GET only"),
]


@EVENTS
@pytest.mark.parametrize("method, path, params, status, message", BAD_REQUESTS)
def test_bad_input_gets_a_4xx_json_error_saying_what_to_fix(dynamodb, env, make_event, method, path, params,
                                                            status, message):
    got_status, headers, body = call(dynamodb, env, make_event(method, path, params))
    assert got_status == status
    assert message in body["error"]
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Access-Control-Allow-Origin"] == "*"
    if status == 405:
        assert headers["Allow"] == "GET, OPTIONS"


def test_a_256_character_parameter_is_still_accepted(dynamodb, env):
    status, _, body = call(dynamodb, env, http_event("GET", "/contributions", {"productId": "p" * 256}))
    assert status == 404 and "has been added" in body["error"]


def test_repeated_parameters_of_a_rest_event_are_joined_like_api_gateway_does(dynamodb, env):
    status, _, body = call(dynamodb, env, rest_event("GET", "/scores", {"role": ["merchant", "photographer"]}))
    assert status == 400 and "'merchant,photographer'" in body["error"]


def test_a_hand_written_rest_event_with_single_valued_parameters_only_is_read(dynamodb, env):
    """As one writes a test event by hand (or an older template does): no multiValueQueryStringParameters."""
    event = {"httpMethod": "GET", "path": "/scores", "queryStringParameters": {"role": "photographer"}}
    status, _, body = call(dynamodb, env, event)
    assert (status, body["role"]) == (200, "photographer")


@EVENTS
@pytest.mark.parametrize("path", ["/", "/scores", "/winners", "/contributions"])
def test_a_cors_preflight_gets_204_with_the_allowed_methods(dynamodb, env, make_event, path):
    response = api.respond(make_event("OPTIONS", path), dynamodb, env)
    assert response["statusCode"] == 204 and response["body"] == ""
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
    assert response["headers"]["Access-Control-Allow-Methods"] == "GET, OPTIONS"
    assert "Content-Type" in response["headers"]["Access-Control-Allow-Headers"]
    assert response["headers"]["Access-Control-Max-Age"] == "600"  # a browser asks again after 10 minutes, not each time


@pytest.mark.parametrize("method, path, params", [("GET", "/scores", {"role": "merchant"}), ("GET", "/winners", None),
                                                  ("GET", "/", None), ("GET", "/nope", None), ("OPTIONS", "/", None)])
def test_every_answer_is_a_proxy_response_api_gateway_takes_and_never_cached(dynamodb, env, method, path, params):
    """API Gateway refuses a proxy response with other fields (a 502), and decodes the body when told it is
    base64; a cached answer would show an old leaderboard."""
    response = api.respond(http_event(method, path, params), dynamodb, env)
    assert set(response) == {"statusCode", "headers", "body", "isBase64Encoded"}
    assert response["isBase64Encoded"] is False
    assert response["headers"]["Cache-Control"] == "no-store"


def test_json_bodies_are_compact_utf8_text_as_curl_shows_them(dynamodb, env):
    dynamodb.put_item(TableName=env[tables.CONTRIBUTIONS], Item={
        "productId": {"S": "p-1"}, "merchant": {"S": "zoe"}, "merchantName": {"S": "Zoë 李"}, "purchases": {"N": "2"}})
    response = api.respond(http_event("GET", "/contributions", {"productId": "p-1"}), dynamodb, env)
    assert response["body"] == ('{"productId":"p-1","merchant":{"userId":"zoe","name":"Zoë 李"},"photographer":null,'
                                '"purchases":2}')


# --- failures --------------------------------------------------------------------------------------


def test_a_dynamodb_failure_is_a_generic_500_with_the_detail_only_in_the_log(dynamodb, env, caplog):
    missing = {**env, tables.SCORES: PREFIX + "no-such-table"}
    with caplog.at_level(logging.ERROR, logger="hello_winners.view.api"):
        status, headers, body = call(dynamodb, missing, http_event("GET", "/scores", {"role": "merchant"}))
    assert status == 500
    assert body == {"error": "the scores cannot be read right now; try again in a moment"}
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "ResourceNotFoundException" in caplog.text
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        "the winner API could not read its tables"]  # the line to look for in the function's log


def test_a_function_deployed_without_its_table_names_answers_500_and_logs_why(dynamodb, caplog):
    with caplog.at_level(logging.ERROR, logger="hello_winners.view.api"):
        status, _, body = call(dynamodb, {}, http_event("GET", "/winners"))
    assert status == 500 and "TABLE_SCORES_NAME" not in body["error"]
    assert "TABLE_SCORES_NAME is not set" in caplog.text


def test_the_lambda_handler_reads_table_names_from_the_environment(dynamodb, env, monkeypatch):
    monkeypatch.setattr(api, "_client", None)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    put_scores(env, [("ana", "photographer", 5, "Ana")])
    response = api.handler(http_event("GET", "/scores", {"role": "photographer"}), None)
    assert json.loads(response["body"])["scores"] == [entry("ana", 5)]


# --- one Query for the top of 10,000 ---------------------------------------------------------------


@pytest.fixture
def big(aws):
    """Tables of their own holding 10,000 scores (5,000 per role, all distinct), dropped afterwards. The
    calls' count is what is tested: benchmarks/bench_api.py times the same call over 100,000 scores."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    env = tables.create(client, "hw-big-")
    # Straight into moto's table: 10,000 writes through boto3 take seconds and are not what is tested here.
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(env[tables.SCORES])
    for i in range(10_000):
        table.put_item({"userId": {"S": f"user-{i:06d}"}, "role": {"S": ("merchant", "photographer")[i % 2]},
                        "score": {"N": str(i + 1)}, "name": {"S": f"Name {i}"}})
    yield client, env
    for name in env.values():
        client.delete_table(TableName=name)


def test_top_ten_of_10000_scores_is_one_query_and_never_a_scan(big):
    """Distinct top scores, so no tie needs resolving: exactly one Query call reaches DynamoDB."""
    client, env = big
    calls = []
    client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    status, _, body = call(client, env, http_event("GET", "/scores", {"role": "photographer", "limit": "10"}))
    assert calls == ["Query"]
    assert status == 200
    assert [e["score"] for e in body["scores"]] == list(range(10_000, 9_980, -2))


def test_a_tie_at_the_cut_costs_one_more_query_for_that_score_only(dynamodb, env):
    put_scores(env, [("a", "merchant", 9, "A"), ("b", "merchant", 5, "B"), ("c", "merchant", 5, "C"),
                     ("d", "merchant", 1, "D")])
    with queries_made(dynamodb) as queries:
        _, _, body = call(dynamodb, env, http_event("GET", "/scores", {"role": "merchant", "limit": "2"}))
    assert queries == ["#role = :role", "#role = :role AND #score = :score"]
    assert [e["userId"] for e in body["scores"]] == ["a", "b"]
