"""Better questions of the same stream: who sold what, hot and trending products, and co-occurrence.

Everything here works on the event frame of ``hello_winners.game.eventlog.to_frame`` (one row per event in
stream order, ids and names as categoricals) and stays vectorised, so a busy day of 10,000,000 events fits in seconds and a few GB:
ids are turned into integer codes once, (user, product) pairs are deduplicated before any join, and
co-occurrence counts are sparse matrix products computed a block of products at a time.

Ties are always broken by id, ascending, so every result is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError
from scipy import sparse

from hello_winners.game import eventlog
from hello_winners.errors import ConfigError
from hello_winners.events import KIND_OF_ROLE, PRODUCT_CREATE

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

VIEW, PURCHASE = "product-view", "purchase"

# Upper bound on the cells of one block of a co-occurrence product (block rows x all products).
_BLOCK_CELLS = 40_000_000
# Upper bound on the (view, purchase) rows one chunk of users may produce in viewed_then_bought.
_CHUNK_ROWS = 20_000_000


# Reading --------------------------------------------------------------------------------------------

def _scan(dynamodb, table_name: str) -> list[dict]:
    """Every item of a table, plain Python values, through a paginated, strongly consistent Scan.

    Consistent, because lessons read the tables right after writing them and compare the result.
    """
    deserialize = TypeDeserializer().deserialize
    try:
        pages = dynamodb.get_paginator("scan").paginate(TableName=table_name, ConsistentRead=True)
        return [{k: deserialize(v) for k, v in item.items()} for page in pages for item in page["Items"]]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            raise ConfigError(f"Table {table_name} does not exist; create the tables first or check the "
                              f"stage prefix.") from None
        raise


def _typed(items: list[dict], columns: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(items, columns=list(columns))
    return frame.astype(columns)


def read_scores(dynamodb: Any, table_name: str) -> pd.DataFrame:
    """The Scores table as userId, role, name, score (int64), highest score first, ties by userId."""
    frame = _typed(_scan(dynamodb, table_name),
                   {"userId": "string", "role": "string", "name": "string", "score": "int64"})
    return frame.sort_values(["role", "score", "userId"], ascending=[True, False, True], ignore_index=True)


def read_contributions(dynamodb: Any, table_name: str) -> pd.DataFrame:
    """The Contributions table: productId, its merchant and photographer (null until known), purchases."""
    frame = _typed(_scan(dynamodb, table_name),
                   {"productId": "string", "merchant": "string", "merchantName": "string",
                    "photographer": "string", "photographerName": "string", "purchases": "Int64"})
    frame["purchases"] = frame["purchases"].fillna(0).astype("int64")
    return frame.sort_values("productId", ignore_index=True)


def read_log_frame(path: str | PathLike[str]) -> pd.DataFrame:
    """The event frame of a JSONL (or .jsonl.gz) event log."""
    return eventlog.to_frame(eventlog.read_log(path))


def read_stream_frame(kinesis: Any, stream_name: str) -> pd.DataFrame:
    """The event frame of everything on a stream, read from its beginning, one shard after another."""
    from hello_winners.game import stream

    return eventlog.to_frame(event for _shard, _sequence, event in stream.read_stream(kinesis, stream_name))


def product_names(events: Iterable[dict]) -> dict[str, str]:
    """Each product's name, from its first create (the one that counts), to label charts by name.

    The event frame keeps ids only (a name per row would not fit a 10,000,000-event day), so this reads
    the events themselves: ``product_names(eventlog.read_log(path))``.
    """
    names: dict[str, str] = {}
    for event in events:
        data = event.get("data") or {}
        if data.get("schema") == PRODUCT_CREATE and data.get("id") not in names:
            names[data["id"]] = data.get("name")
    return names


def _as_frame(events) -> pd.DataFrame:
    """Accept an event frame or any iterable of events, so a notebook can pass either."""
    return events if isinstance(events, pd.DataFrame) else eventlog.to_frame(events)


# Who sold what -------------------------------------------------------------------------------------

def attribution(events: pd.DataFrame | Iterable[dict]) -> pd.DataFrame:
    """Each product's merchant and photographer, by the rules of ``hello_winners.game.reference``.

    A product's merchant is the first create in stream order whose origin identifies someone (later
    ones are conflicts), its photographer the first such image; a contributor's display name in a role
    is the one on their first counted contribution in that role. Columns: productId, merchant,
    merchantName, photographer, photographerName (null until known).
    """
    frame = _as_frame(events)
    contributions = frame.loc[frame["kind"].isin(list(KIND_OF_ROLE.values())) & frame["userId"].notna(),
                              ["kind", "productId", "userId", "name"]]
    # A few rows per product: plain strings here, because pandas 3.1 maps a categorical through a
    # Series of categorical values wrongly (it reads the values' codes against the wrong categories).
    contributions = contributions.astype({"productId": "string", "userId": "string", "name": "string"})
    counted = contributions.drop_duplicates(["productId", "kind"])
    result = pd.DataFrame(index=pd.Index([], dtype="string", name="productId"))
    for role, kind in KIND_OF_ROLE.items():
        mine = counted[counted["kind"] == kind]
        names = mine.drop_duplicates("userId").set_index("userId")["name"]
        owners = mine.set_index("productId")["userId"].rename(role).to_frame()
        owners[f"{role}Name"] = owners[role].map(names)
        result = result.join(owners, how="outer")
    result = result[["merchant", "merchantName", "photographer", "photographerName"]]
    return result.reset_index().astype("string").sort_values("productId", ignore_index=True)


def _purchases_by_product(frame: pd.DataFrame) -> pd.DataFrame:
    purchases = frame.loc[(frame["kind"] == PURCHASE) & frame["productId"].notna(), ["productId", "time"]]
    return purchases.groupby("productId", observed=True)["time"].agg(
        sales="size", firstSale="min", lastSale="max")


def sales_by_contributor(events: pd.DataFrame | Iterable[dict]) -> pd.DataFrame:
    """Per merchant and per photographer, how much each of their products sold and when.

    Columns: role, userId, name, productId, sales, firstSale, lastSale. Every purchase of a product
    counts, before or after its contributors became known. Contributors with most sales come first.
    """
    frame = _as_frame(events)
    owners = attribution(frame).set_index("productId")
    sold = _purchases_by_product(frame).join(owners, how="inner")
    parts = []
    for role in KIND_OF_ROLE:
        part = sold[sold[role].notna()].reset_index()
        part = part.rename(columns={role: "userId", f"{role}Name": "name"})
        part.insert(0, "role", role)
        parts.append(part[["role", "userId", "name", "productId", "sales", "firstSale", "lastSale"]])
    table = pd.concat(parts, ignore_index=True)
    table["role"] = table["role"].astype("string")
    table["total"] = table.groupby(["role", "userId"])["sales"].transform("sum")
    table = table.sort_values(["role", "total", "userId", "sales", "productId"],
                              ascending=[True, False, True, False, True], ignore_index=True)
    return table.drop(columns="total")


def scores_from_frame(events: pd.DataFrame | Iterable[dict]) -> pd.DataFrame:
    """The winners' table computed from the log: role, userId, name, score, as read_scores returns it."""
    sales = sales_by_contributor(events)
    scores = sales.groupby(["role", "userId", "name"], as_index=False)["sales"].sum()
    scores = scores.rename(columns={"sales": "score"}).astype({"score": "int64"})
    return scores.sort_values(["role", "score", "userId"], ascending=[True, False, True], ignore_index=True)


def sales_race(events: pd.DataFrame | Iterable[dict], role: str, top: int = 5) -> pd.DataFrame:
    """Cumulative sales over time of the ``top`` contributors of a role: time, userId, name, sales.

    One row per purchase of their products, in time order, for drawing as step lines.
    """
    if role not in KIND_OF_ROLE:
        raise ConfigError(f"Unknown role {role!r}; use one of {', '.join(KIND_OF_ROLE)}.")
    frame = _as_frame(events)
    leaders = scores_from_frame(frame)
    leaders = leaders[leaders["role"] == role].head(top)
    owners = attribution(frame).set_index("productId")[[role, f"{role}Name"]]
    owners = owners[owners[role].isin(leaders["userId"])]
    purchases = frame.loc[(frame["kind"] == PURCHASE) & frame["productId"].isin(owners.index),
                          ["time", "productId"]]
    race = purchases.join(owners, on="productId").rename(columns={role: "userId", f"{role}Name": "name"})
    race = race.sort_values(["userId", "time"], kind="stable")
    race["sales"] = race.groupby("userId").cumcount() + 1
    order = {user: i for i, user in enumerate(leaders["userId"])}
    race = race.sort_values(["userId", "time"], key=lambda c: c.map(order) if c.name == "userId" else c,
                            kind="stable", ignore_index=True)
    return race[["time", "userId", "name", "sales"]]


# Hot and trending ----------------------------------------------------------------------------------

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
    frame = _as_frame(events)
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
    frame = _as_frame(events)
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


# Co-occurrence -------------------------------------------------------------------------------------

def _activity(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Index, int]:
    """Views and purchases with integer user and product codes and a time order (ties: stream order).

    Product codes follow the sorted product ids, so ordering by code is ordering by id.
    """
    active = frame.loc[frame["kind"].isin([VIEW, PURCHASE]) & frame["productId"].notna()
                       & frame["userId"].notna(), ["time", "kind", "productId", "userId"]]
    products, labels = pd.factorize(active["productId"], sort=True)
    users, user_labels = pd.factorize(active["userId"])
    order = np.empty(len(active), dtype=np.int64)
    order[np.argsort(active["time"].array.asi8, kind="stable")] = np.arange(len(active))
    coded = pd.DataFrame({"user": users.astype(np.int32), "product": products.astype(np.int32),
                          "view": (active["kind"] == VIEW).to_numpy(), "order": order})
    return coded, pd.Index(labels), len(user_labels)


def _incidence(coded: pd.DataFrame, view: bool, n_users: int, n_products: int) -> sparse.csr_matrix:
    """Binary user x product matrix of who viewed (or bought) what, duplicates collapsed."""
    rows = coded.loc[coded["view"] == view, ["user", "product"]].drop_duplicates()
    ones = np.ones(len(rows), dtype=np.int32)
    return sparse.csr_matrix((ones, (rows["user"].to_numpy(), rows["product"].to_numpy())),
                             shape=(n_users, n_products))


def _top_k(counts: sparse.csr_matrix, first_row: int, k: int) -> tuple[np.ndarray, ...]:
    """Top ``k`` columns of each row by count, ties by column; the diagonal (a product with itself) dropped."""
    counts = counts.tocoo()
    rows = counts.row.astype(np.int64) + first_row
    keep = (rows != counts.col) & (counts.data > 0)
    rows, cols, data = rows[keep], counts.col[keep], counts.data[keep]
    order = np.lexsort((cols, -data, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    rank = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
    keep = rank < k
    return rows[keep], cols[keep], data[keep], rank[keep] + 1


def _recommendations(parts: list[tuple[np.ndarray, ...]], labels: pd.Index) -> pd.DataFrame:
    rows, cols, data, rank = (np.concatenate(column) for column in zip(*parts)) if parts else ([],) * 4
    return pd.DataFrame({
        "productId": pd.array(labels[np.asarray(rows, dtype=np.int64)], dtype="string"),
        "rank": np.asarray(rank, dtype="int64"),
        "recommended": pd.array(labels[np.asarray(cols, dtype=np.int64)], dtype="string"),
        "users": np.asarray(data, dtype="int64"),
    })


def _blocked_top_k(left: sparse.csr_matrix, right: sparse.csr_matrix, k: int) -> list[tuple[np.ndarray, ...]]:
    """Top k of (left.T @ right) per row, computed a block of rows at a time to bound memory."""
    left_t = left.T.tocsr()
    n_products = left.shape[1]
    block = max(1, _BLOCK_CELLS // max(n_products, 1))
    return [_top_k(left_t[start:start + block] @ right, start, k) for start in range(0, n_products, block)]


def _symmetric(events, view: bool, k: int) -> pd.DataFrame:
    coded, labels, n_users = _activity(_as_frame(events))
    matrix = _incidence(coded, view, n_users, len(labels))
    return _recommendations(_blocked_top_k(matrix, matrix, k), labels)


def also_viewed(events: pd.DataFrame | Iterable[dict], k: int = 5) -> pd.DataFrame:
    """"Viewed this, also viewed": per product, the ``k`` other products most users viewed as well.

    Columns: productId, rank, recommended, users (distinct users who viewed both).
    """
    return _symmetric(events, True, k)


def bought_also_bought(events: pd.DataFrame | Iterable[dict], k: int = 5) -> pd.DataFrame:
    """"Bought this, also bought": per product, the ``k`` other products most of its buyers bought."""
    return _symmetric(events, False, k)


def viewed_then_bought(events: pd.DataFrame | Iterable[dict], k: int = 5) -> pd.DataFrame:
    """"Viewed this, then bought": per product A, the ``k`` products B most users bought after viewing A.

    "After" means later in time, and later in the stream for equal times; A itself is left out.
    Each user counts once per (A, B): their first view of A is compared with their last purchase of B.
    """
    coded, labels, _ = _activity(_as_frame(events))
    first_view = coded[coded["view"]].groupby(["user", "product"], as_index=False)["order"].min()
    last_buy = coded[~coded["view"]].groupby(["user", "product"], as_index=False)["order"].max()
    n = len(labels)
    total = sparse.csr_matrix((n, n), dtype=np.int64)
    for users in _user_chunks(first_view["user"], last_buy["user"]):
        pairs = first_view[first_view["user"].isin(users)].merge(
            last_buy[last_buy["user"].isin(users)], on="user", suffixes=("_viewed", "_bought"))
        pairs = pairs[pairs["order_viewed"] < pairs["order_bought"]]
        ones = np.ones(len(pairs), dtype=np.int64)
        total = total + sparse.csr_matrix(
            (ones, (pairs["product_viewed"].to_numpy(), pairs["product_bought"].to_numpy())), shape=(n, n))
    return _recommendations([_top_k(total, 0, k)], labels)


def _user_chunks(viewers: pd.Series, buyers: pd.Series):
    """Groups of users whose (viewed x bought) joins stay under the chunk row bound."""
    per_user = viewers.value_counts().mul(buyers.value_counts(), fill_value=0)
    per_user = per_user[per_user > 0].sort_index()
    chunk = (per_user.cumsum() // _CHUNK_ROWS).to_numpy()
    for label in np.unique(chunk):
        yield per_user.index[chunk == label]
