"""Hot and trending products: the most viewed by unique users, and the most bought lately, time-weighted."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from hello_winners.errors import ConfigError
from hello_winners.analysis.frames import PURCHASE, VIEW, as_frame


def _ranked(table: pd.DataFrame, by: str, top: int | None) -> pd.DataFrame:
    """Sort by ``by`` descending then productId ascending, keep ``top``, number the ranks from 1."""
    table = table.sort_values([by, "productId"], ascending=[False, True], ignore_index=True)
    table = table.head(top) if top is not None else table
    table.insert(0, "rank", np.arange(1, len(table) + 1, dtype="int64"))
    return table


def hot_products(events: pd.DataFrame | Iterable[dict], top: int | None = 10,
                 min_views: int = 3) -> pd.DataFrame:
    """The original's hot products: per product, the distinct users who viewed it ``min_views`` or more times.

    Columns: rank, productId, users. Products no user viewed that often are left out.
    """
    frame = as_frame(events)
    views = frame.loc[(frame["kind"] == VIEW) & frame["productId"].notna() & frame["userId"].notna(),
                      ["userId", "productId"]]
    users, _ = pd.factorize(views["userId"])
    products, labels = pd.factorize(views["productId"])
    pair, counts = np.unique(products.astype(np.int64) * max(users.max(initial=0) + 1, 1) + users,
                             return_counts=True)
    keen = pair[counts >= min_views] // max(users.max(initial=0) + 1, 1)
    per_product = np.bincount(keen, minlength=len(labels))
    present = per_product > 0
    table = pd.DataFrame({"productId": pd.array(labels[present], dtype="string"),
                          "users": per_product[present].astype("int64")})
    return _ranked(table, "users", top)


def trending(events: pd.DataFrame | Iterable[dict], *, as_of: pd.Timestamp | datetime | str | None = None,
             half_life: pd.Timedelta | timedelta | str = "1h", view_weight: float = 1.0,
             purchase_weight: float = 5.0, top: int | None = 10) -> pd.DataFrame:
    """Products by exponentially decayed activity as of a time, so yesterday's hits fade.

    An event ``age`` old adds ``weight * 0.5 ** (age / half_life)``; events after ``as_of`` (default:
    the last event's time) are ignored. Columns: rank, productId, score, views, purchases.
    """
    half_life = pd.Timedelta(half_life)
    if half_life <= pd.Timedelta(0):
        raise ConfigError(f"half_life must be a positive duration, got {half_life}; try '1h'.")
    frame = as_frame(events)
    active = frame.loc[frame["kind"].isin([VIEW, PURCHASE]) & frame["productId"].notna(),
                       ["time", "kind", "productId"]]
    as_of = active["time"].max() if as_of is None else pd.Timestamp(as_of)
    if as_of.tzinfo is None:
        as_of = as_of.tz_localize("UTC")
    active = active[active["time"] <= as_of]
    products, labels = pd.factorize(active["productId"])
    is_view = (active["kind"] == VIEW).to_numpy()
    age = (as_of - active["time"]).dt.total_seconds().to_numpy()
    weight = np.where(is_view, view_weight, purchase_weight) * np.exp2(-age / half_life.total_seconds())
    n = len(labels)
    table = pd.DataFrame({
        "productId": pd.array(labels, dtype="string"),
        "score": np.bincount(products, weights=weight, minlength=n),
        "views": np.bincount(products[is_view], minlength=n).astype("int64"),
        "purchases": np.bincount(products[~is_view], minlength=n).astype("int64"),
    })
    return _ranked(table, "score", top)
