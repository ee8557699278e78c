"""The cost knob, measured: what the mapping's BatchSize does to DynamoDB writes, dollars and latency.

The consumer folds a batch before it writes, so a bigger batch touches each product and each score
once for more events; how much that saves depends on how many products a batch spreads over. This
measures it rather than modelling it: a simulated busy hour with a given catalog, delivered as Lambda
would (:func:`hello_winners.view.delivery.lambda_batches`), run through the real consumer against the
in-memory DynamoDB stand-in, its logged write units priced by :mod:`hello_winners.analysis.cost`.
The latency is the batching window that lets a batch fill at the day's rate: its first record waits
that long (Lambda allows at most 300 s, so a batch that needs more never fills).

Example (lesson 6 charts it): ``knob(batch_sizes=(100, 1_000), catalogs=(180,), events=20_000)``.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pandas as pd
from tqdm.auto import tqdm

from hello_winners.analysis.cost import SECONDS_PER_DAY, Scenario, cost
from hello_winners.game.simulator import simulate
from hello_winners.view import consumer, tables
from hello_winners.view.delivery import lambda_batches
from hello_winners.workshop.doubles import MemoryDynamoDB

__all__ = ["MAX_WINDOW_S", "knob", "write_units_per_1000"]

MAX_WINDOW_S = 300  # Lambda's largest MaximumBatchingWindowInSeconds
PRODUCTS_PER_MERCHANT = 3  # the live game's; a catalog of N products is a room of N / 3 participants


def write_units_per_1000(log: list[dict], batch_size: int, shards: int = 4) -> float:
    """DynamoDB write units the consumer logs per 1,000 events of ``log``, in batches of ``batch_size``."""
    names = tables.table_names("knob-")
    store, lines = MemoryDynamoDB(names), []
    for batch in lambda_batches(log, shards=shards, batch_size=batch_size):
        consumer.process(batch, store, names, log=lines.append)
    return sum(line["writeUnits"] for line in lines) * 1000 / len(log)


def knob(batch_sizes: tuple[int, ...] = (100, 1_000, 10_000), catalogs: tuple[int, ...] = (180, 6_000),
         events: int = 100_000, events_per_day: float = 10_000_000, reads_per_day: float = 1_000,
         shards: int = 4, seed: int = 11, progress: bool = False) -> pd.DataFrame:
    """One row per (catalog size, BatchSize): write units per 1,000 events, dollars a day, window to fill.

    Each catalog's busy hour is ``events`` simulated events (seeded); dollars are for ``events_per_day``
    at the cost model's current prices, DynamoDB alone and all services: the same Scenario that
    ``cost.compare_consumers`` prices, with the write units measured here. ``progress`` shows a tqdm bar
    (a widget in Jupyter) of the runs, which take seconds each.
    """
    rows = []
    per_shard_per_s = events_per_day / SECONDS_PER_DAY / shards
    with tqdm(total=len(catalogs) * (1 + len(batch_sizes)), unit="run", desc="measuring the knob",
              disable=not progress) as bar:
        for products in catalogs:
            log = list(simulate(seed=seed, participants=math.ceil(products / PRODUCTS_PER_MERCHANT),
                                products_per_merchant=PRODUCTS_PER_MERCHANT, duration=timedelta(hours=1),
                                events=events))
            bar.update()
            for batch_size in batch_sizes:
                units = write_units_per_1000(log, batch_size, shards)
                daily = cost(Scenario(f"{products} products, BatchSize {batch_size}", events_per_day, reads_per_day,
                                      batch_size=batch_size, write_units_per_event=units / 1000))
                rows.append({"products": products, "batch_size": batch_size, "write_units_per_1000": units,
                             "dynamodb_daily": daily.by_service()["DynamoDB"], "total_daily": daily.daily,
                             "window_s": batch_size / per_shard_per_s})
                bar.update()
    return pd.DataFrame(rows)
