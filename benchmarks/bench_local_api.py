"""Floods of concurrent requests to the local HTTP endpoint: does every request get an answer, and how fast.

The endpoint (hello_winners.embedded.local_api on the kit's h11 server) answers through a function that
returns at once, so the figures are the server's own. Each flood opens every connection before any
request is sent (tests/flood.py); the seconds are the median of three floods. http.server, which served it
before, left 595 of 1,000 concurrent requests without an answer after a minute (a listen backlog of 5).
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from flood import flood  # noqa: E402  (a helper of the tests, shared)

from hello_winners.embedded.local_api import LocalApi  # noqa: E402

ANSWER = {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"scores": []}'}


def run(quick: bool) -> list[dict]:
    rows = []
    for count in (1_000,) if quick else (1_000, 5_000):
        with LocalApi(lambda event: ANSWER) as local:
            floods = []
            for _ in range(1 if quick else 3):
                started = time.perf_counter()
                answers = flood(local.url, count, "/scores?role=merchant")
                floods.append((time.perf_counter() - started, answers))
        seconds = statistics.median(s for s, _ in floods)
        answers = floods[-1][1]
        rows += [
            {"name": f"{count:,} at once: requests without an HTTP answer", "figure": answers[None], "unit": "requests",
             "compared_with": "0 (http.server: 595 of 1,000 after 60 s)"},
            {"name": f"{count:,} at once: answered 503 (Retry-After)", "figure": answers[503], "unit": "requests",
             "compared_with": "beyond 4,096 connections open at once"},
            {"name": f"{count:,} at once: until the last answer, median", "figure": seconds, "unit": "s",
             "compared_with": "seconds, not a minute"},
        ]
    return rows
