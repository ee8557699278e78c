"""How often the local runtime asks moto anything when nothing happens: Lambda's pace, quieter at rest.

A participant's laptop runs the embedded AWS all day; every poll is a signed, IAM-checked request, so
the pace at rest is the runtime's whole cost. Pure functions of how long things have been quiet, so
the policy is tested without a clock.
"""

from __future__ import annotations

POLL_BASE_S = 1.0  # Lambda polls a shard that has no new records about once a second
POLL_CAP_S = 2.0  # after a quiet while, half as often: the first record after it still runs within ~2 s
WINDOW_POLL_S = 0.25  # while a batching window is open, fetch more this often, so the window fills
WINDOW_SLACK_S = 0.001  # a batching window this close to its end is over
SYNC_BASE_S = 3.0  # re-read the Lambda API this often after a change (deploy and teardown also ask at once)
SYNC_CAP_S = 30.0  # and back off to this when nothing changes: the periodic read is only a fallback


def _doubling(quiet: int, base_s: float, cap_s: float) -> float:
    return min(cap_s, base_s * 2 ** min(max(quiet, 0), 32))


def idle_wait(empty_polls: int) -> float:
    """Seconds before polling a shard again after ``empty_polls`` polls in a row found nothing.

    0 when the last poll found records (Lambda reads on at once); else at least POLL_BASE_S, doubling
    to POLL_CAP_S.
    """
    return 0.0 if empty_polls <= 0 else _doubling(empty_polls - 1, POLL_BASE_S, POLL_CAP_S)


def window_wait(open_for_s: float, window_s: float) -> float:
    """Seconds before fetching again while a batching window of ``window_s``, open ``open_for_s``, fills.

    0 when the window is over: within WINDOW_SLACK_S of its end it counts as over, since a wait shorter
    than the clock's resolution would never end it.
    """
    remaining = window_s - open_for_s
    return 0.0 if remaining < WINDOW_SLACK_S else min(WINDOW_POLL_S, remaining)


def sync_wait(unchanged_syncs: int) -> float:
    """Seconds before the next periodic read of the Lambda API after ``unchanged_syncs`` found nothing new."""
    return _doubling(unchanged_syncs, SYNC_BASE_S, SYNC_CAP_S)
