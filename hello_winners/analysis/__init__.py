"""Better questions of the same stream: who sold what, hot and trending products, and co-occurrence.

Everything here works on the event frame of ``hello_winners.game.eventlog.to_frame`` (one row per event in
stream order, ids and names as categoricals) and stays vectorised, so a busy day of 10,000,000 events fits in seconds and a few GB:
ids are turned into integer codes once, (user, product) pairs are deduplicated before any join, and
co-occurrence counts are sparse matrix products computed a block of products at a time.

Ties are always broken by id, ascending, so every result is deterministic. ``frames`` reads the tables
and the logs into frames, ``sales`` says who sold what, ``products`` finds hot and trending products,
``cooccurrence`` what is viewed or bought together; ``charts`` and ``cost`` stand beside them. Every
public name of the first four is re-exported here, as ``analysis.sales_by_contributor(...)``.
"""

from __future__ import annotations

from hello_winners.analysis.cooccurrence import also_viewed, bought_also_bought, viewed_then_bought
from hello_winners.analysis.frames import product_names, read_contributions, read_log_frame, read_scores, read_stream_frame
from hello_winners.analysis.products import hot_products, trending
from hello_winners.analysis.sales import attribution, sales_by_contributor, sales_race, scores_from_frame

__all__ = [
    "also_viewed",
    "attribution",
    "bought_also_bought",
    "hot_products",
    "product_names",
    "read_contributions",
    "read_log_frame",
    "read_scores",
    "read_stream_frame",
    "sales_by_contributor",
    "sales_race",
    "scores_from_frame",
    "trending",
    "viewed_then_bought",
]
