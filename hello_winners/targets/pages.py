"""Every item of an AWS list call, across all its pages.

AWS answers a list call one page at a time (a few dozen functions, APIs or roles per page on a busy
account), so code that reads only the first page misses what lies beyond it: the planner creates a
second HTTP API, teardown leaves one behind. Every list call of the kit goes through :func:`items`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def items(client: Any, operation: str, key: str, **params: Any) -> Iterator[Any]:
    """Each entry under ``key`` of every page of ``client.<operation>(**params)``, through boto3's paginator.

    ``PaginationConfig`` in ``params`` is passed to the paginator (a small ``PageSize`` in tests).
    """
    for page in client.get_paginator(operation).paginate(**params):
        yield from page.get(key, [])
