"""People who viewed this also viewed (or bought) that: co-occurrence counts as sparse matrix products.

Ids become integer codes once, (user, product) pairs are deduplicated before any join, and the
products are multiplied a block at a time, so a day of 10,000,000 events fits in seconds and a few GB.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import sparse

from hello_winners.analysis.frames import PURCHASE, VIEW, as_frame


# Upper bound on the cells of one block of a co-occurrence product (block rows x all products).
_BLOCK_CELLS = 40_000_000
# Upper bound on the (view, purchase) rows one chunk of users may produce in viewed_then_bought.
_CHUNK_ROWS = 20_000_000


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
    coded, labels, n_users = _activity(as_frame(events))
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
    coded, labels, _ = _activity(as_frame(events))
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
