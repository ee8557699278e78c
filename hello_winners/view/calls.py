"""DynamoDB calls for one invocation: retries of transient errors, the deadline, and what they cost.

The consumer's one place for the retry policy (full-jitter backoff while the Lambda invocation has
time left) and its call tallies; :func:`full_jitter` is also the backoff of
:mod:`hello_winners.game.stream`, so the kit has one definition of it.
"""

import random
import time
from collections.abc import Callable

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

__all__ = ["GaveUp", "Calls", "MAX_ATTEMPTS", "SAFETY_MS", "TRANSIENT_ERRORS", "full_jitter", "transient"]

TRANSIENT_ERRORS = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable", "TransactionConflictException", "TransactionConflict",
    "LimitExceededException",
})
SAFETY_MS = 2000  # time kept in reserve: never sleep or write into the last two seconds
MAX_ATTEMPTS = 8
BASE_DELAY, MAX_DELAY = 0.05, 2.0  # seconds


def full_jitter(attempt: int, base: float, cap: float) -> float:
    """Seconds to wait before retry ``attempt`` (0 for the first): uniform in [0, min(cap, base * 2**attempt)]."""
    return random.uniform(0, min(cap, base * 2 ** attempt))


def transient(error: ClientError) -> bool:
    """Whether a DynamoDB error is worth retrying: throttling, a listed transient code, or a 5xx."""
    response = error.response
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    return response["Error"]["Code"] in TRANSIENT_ERRORS or status >= 500


class GaveUp(Exception):
    """A call still failed after every retry the invocation had time for."""


class Calls:
    """A DynamoDB client's calls within one invocation, with the counts the log line reports.

    ``remaining`` is the Lambda context's ``get_remaining_time_in_millis`` (None: no deadline);
    ``sleep`` is injectable for tests. ``calls`` counts requests sent, ``retries`` backoffs slept,
    ``consumed`` the ConsumedCapacity DynamoDB returned.
    """

    def __init__(self, client: object, remaining: Callable[[], int] | None = None,
                 sleep: Callable[[float], object] = time.sleep):
        self.client = client
        self.remaining = remaining
        self.sleep = sleep
        self.calls = self.retries = 0
        self.consumed = 0.0

    def call(self, method: str, **request) -> dict:
        """One DynamoDB call, retried on transient errors while time allows; else :class:`GaveUp`.

        Any other error is raised as it came.
        """
        attempt = 0
        while True:
            if not self.time_left(0):
                raise GaveUp(f"{method}: no time left")
            self.calls += 1
            try:
                response = getattr(self.client, method)(**request)
            except ClientError as error:
                if not transient(error):
                    raise
                attempt = self.backoff(attempt, error)
                continue
            except (BotoConnectionError, HTTPClientError) as error:
                attempt = self.backoff(attempt, error)
                continue
            self._count_consumed(response.get("ConsumedCapacity"))
            return response

    def backoff(self, attempt: int, error: Exception | None = None) -> int:
        """Sleep before the next attempt and return its number; :class:`GaveUp` when attempts or time run out."""
        delay = full_jitter(attempt, BASE_DELAY, MAX_DELAY)
        if attempt + 1 >= MAX_ATTEMPTS or not self.time_left(delay):
            raise GaveUp(str(error or "unprocessed items remain")) from error
        self.retries += 1
        self.sleep(delay)
        return attempt + 1

    def time_left(self, seconds: float) -> bool:
        """Whether ``seconds`` from now still leaves the safety reserve before the deadline."""
        return self.remaining is None or self.remaining() - seconds * 1000 > SAFETY_MS

    def _count_consumed(self, consumed):
        for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            self.consumed += entry.get("CapacityUnits", 0.0)
