"""Who sold what: each purchase attributed to its product's merchant and photographer, tallied, and raced over time."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from hello_winners.errors import ConfigError
from hello_winners.events import KIND_OF_ROLE
from hello_winners.analysis.frames import PURCHASE, as_frame


def attribution(events: pd.DataFrame | Iterable[dict]) -> pd.DataFrame:
    """Each product's merchant and photographer, by the rules of ``hello_winners.game.reference``.

    A product's merchant is the first create in stream order whose origin identifies someone (later
    ones are conflicts), its photographer the first such image; a contributor's display name in a role
    is the one on their first counted contribution in that role. Columns: productId, merchant,
    merchantName, photographer, photographerName (null until known).
    """
    frame = as_frame(events)
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
    frame = as_frame(events)
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
    frame = as_frame(events)
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
