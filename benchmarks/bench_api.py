"""Latency of the winner API handler for the projector's question: the top 10 of a role.

GET /scores?role=merchant&limit=10 with 100,000 scores stored (2,000 when quick), half per role, all
distinct, against a private embedded moto server over HTTP on 127.0.0.1. The handler runs in process
with one client, as a warm Lambda would, after a warm-up; figures are medians and 95th percentiles over
50 calls (20 when quick).

moto answers a Query on a global secondary index by scanning and sorting the whole table in Python
(hundreds of milliseconds per call at 100,000 items, where DynamoDB answers in milliseconds), so the
end-to-end figure measures moto. The handler's own time (end to end minus the time spent inside its
DynamoDB requests, timed by botocore's before-send and response-received events) is the part that
would remain on AWS. The Query calls per request are counted too: one, never a Scan.
"""

import contextlib
import os
import statistics
import tempfile
import time

import boto3

from hello_winners import embedded
from hello_winners.view import api, tables

ROLES = ("merchant", "photographer")
EVENT = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/scores",
    "rawQueryString": "role=merchant&limit=10",
    "queryStringParameters": {"role": "merchant", "limit": "10"},
    "headers": {},
    "requestContext": {"http": {"method": "GET", "path": "/scores"}, "stage": "$default"},
    "isBase64Encoded": False,
}


def run(quick: bool) -> list[dict]:
    stored, calls = (2_000, 20) if quick else (100_000, 50)
    with _private_server() as endpoint:
        client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", **_participant(endpoint))
        env = tables.create(client, "hw-bench-")
        _store_scores(client, env, stored)
        for _ in range(3):
            assert api.respond(EVENT, client, env)["statusCode"] == 200
        totals, own, queries = _timed_calls(client, env, calls)
    label = f"GET /scores top 10 of {stored:,}"
    return [
        {"name": f"{label}: median, end to end", "figure": statistics.median(totals), "unit": "ms",
         "compared_with": "moto's GSI Query scans the table; DynamoDB: single-digit ms"},
        {"name": f"{label}: p95, end to end", "figure": _p95(totals), "unit": "ms",
         "compared_with": "moto server over HTTP on 127.0.0.1"},
        {"name": f"{label}: median, handler's own time", "figure": statistics.median(own), "unit": "ms",
         "compared_with": "< 10 ms target (the part that stays on AWS)"},
        {"name": f"{label}: p95, handler's own time", "figure": _p95(own), "unit": "ms",
         "compared_with": "< 20 ms target"},
        {"name": f"{label}: Query calls per request", "figure": queries / calls, "unit": "calls",
         "compared_with": "1 (one Query on ScoresByRole, never a Scan)"},
    ]


def _timed_calls(client, env, calls):
    """(end-to-end ms, handler-only ms, Query count) of ``calls`` requests."""
    inside = []
    started_request = []
    queries = 0

    def before_send(**_):
        started_request.append(time.perf_counter())

    def received(**_):
        inside.append(time.perf_counter() - started_request.pop())

    def counted(model, **_):
        nonlocal queries
        queries += model.name == "Query"

    client.meta.events.register("before-send.dynamodb.*", before_send)
    client.meta.events.register("response-received.dynamodb.*", received)
    client.meta.events.register("before-call.dynamodb.*", counted)
    totals, own = [], []
    for _ in range(calls):
        inside.clear()
        started = time.perf_counter()
        api.respond(EVENT, client, env)
        total = time.perf_counter() - started
        totals.append(1000 * total)
        own.append(1000 * (total - sum(inside)))
    return totals, own, queries


def _p95(values):
    return statistics.quantiles(values, n=20)[-1]


def _store_scores(client, env, count):
    """``count`` contributors with distinct scores, alternating roles."""
    table = boto3.resource("dynamodb", endpoint_url=client.meta.endpoint_url, region_name="us-east-1",
                           **_participant(client.meta.endpoint_url))
    with table.Table(env[tables.SCORES]).batch_writer() as batch:
        for i in range(count):
            batch.put_item(Item={"userId": f"user-{i:06d}", "role": ROLES[i % 2], "score": i + 1,
                                 "name": f"Contributor {i}"})


def _participant(endpoint):
    """The keys of stage bench's participant, a room's user on the embedded AWS at ``endpoint`` (made if needed):
    the embedded AWS answers only signed requests, and holds its participants to the room policy."""
    from hello_winners.embedded import credentials, participants

    return vars(credentials.participant_keys(participants.ensure(endpoint, embedded.REGION, "bench")))


@contextlib.contextmanager
def _private_server():
    """A moto server of the benchmark's own (its own state folder), stopped afterwards."""
    previous = os.environ.get(embedded.STATE_DIR_ENV)
    with tempfile.TemporaryDirectory(prefix="hello-winners-bench-api-") as state:
        os.environ[embedded.STATE_DIR_ENV] = state
        try:
            yield embedded.ensure_running().endpoint
        finally:
            embedded.stop()
            if previous is None:
                os.environ.pop(embedded.STATE_DIR_ENV, None)
            else:
                os.environ[embedded.STATE_DIR_ENV] = previous


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
