"""Charts a room would rather look at than read: leaderboards, the sales race, one contributor's products.

Each function returns a ``matplotlib.figure.Figure`` built without pyplot, so a notebook shows it
once (as the cell's value) and no global figure state piles up; ``save_to`` also writes a PNG.
Titles, axis labels and units are always set. Names and ids are data: every text drawn from them
is drawn literally, never read as mathtext (a name like ``$\\frac{a}$ money`` would fail to draw).
"""

from __future__ import annotations

from os import PathLike

import pandas as pd
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

__all__ = ["WINNER_COLOUR", "OTHER_COLOUR", "leaderboard", "sales_race", "product_sales", "batch_size_knob"]

WINNER_COLOUR = "#d4a017"  # gold
OTHER_COLOUR = "#8da9c4"  # muted blue
_LINE_COLOURS = ["#d4a017", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
_TITLE, _LABEL, _TICK = 15, 12, 11
_ROLE_NOUNS = {"merchant": "merchants", "photographer": "photographers"}


def _figure(rows: int = 0) -> tuple[Figure, object]:
    """A figure tall enough for ``rows`` horizontal bars, with the chart junk removed."""
    fig = Figure(figsize=(9, max(3.5, 0.45 * rows + 1.6)), layout="constrained")
    ax = fig.subplots()
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=_TICK)
    return fig, ax


def _finish(fig: Figure, ax, title: str, xlabel: str, ylabel: str, save_to) -> Figure:
    ax.set_title(title, fontsize=_TITLE, fontweight="bold", loc="left", parse_math=False)
    ax.set_xlabel(xlabel, fontsize=_LABEL)
    ax.set_ylabel(ylabel, fontsize=_LABEL)
    if save_to is not None:
        fig.savefig(save_to, dpi=120)
    return fig


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=_LABEL, transform=ax.transAxes, parse_math=False)
    ax.set_xticks([])
    ax.set_yticks([])


def _bars(ax, labels: list[str], values: list[int], colours: list[str]) -> None:
    """Horizontal bars, first label on top, each labelled with its value."""
    bars = ax.barh(labels, values, color=colours, height=0.7)
    _literally(ax.get_yticklabels())
    ax.invert_yaxis()
    ax.bar_label(bars, labels=[f"{v:,}" for v in values], padding=4, fontsize=_TICK)
    ax.margins(x=0.12)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)


def _literally(texts) -> None:
    """Draw these texts as they are: matplotlib reads a string with two ``$`` as mathtext otherwise."""
    for text in texts:
        text.set_parse_math(False)


def _display_names(table: pd.DataFrame) -> list[str]:
    """Names, with the user id added where two contributors share a display name."""
    shared = table["name"].duplicated(keep=False)
    return [f"{n} ({u})" if s else str(n) for n, u, s in zip(table["name"], table["userId"], shared)]


def leaderboard(scores: pd.DataFrame, role: str, top: int = 10,
                save_to: str | PathLike[str] | None = None) -> Figure:
    """Horizontal bars of the ``top`` contributors of a role; every contributor at the top score is gold.

    ``scores`` has columns userId, role, name, score (``analysis.read_scores`` or
    ``analysis.scores_from_frame``).
    """
    board = scores[scores["role"] == role].sort_values(["score", "userId"], ascending=[False, True]).head(top)
    fig, ax = _figure(len(board))
    noun = _ROLE_NOUNS.get(role, role)
    if board.empty:
        _empty(ax, f"No {noun} with sales yet")
    else:
        values = [int(v) for v in board["score"]]
        colours = [WINNER_COLOUR if v == values[0] else OTHER_COLOUR for v in values]
        _bars(ax, _display_names(board), values, colours)
    return _finish(fig, ax, f"Leaderboard: top {noun}", "Sales (purchases of their products)",
                   noun.capitalize(), save_to)


def sales_race(race: pd.DataFrame, role: str, save_to: str | PathLike[str] | None = None) -> Figure:
    """Cumulative sales over time, one step line per contributor, leader first in the legend.

    ``race`` has columns time, userId, name, sales (cumulative), as ``analysis.sales_race`` returns.
    """
    fig, ax = _figure()
    fig.set_size_inches(10, 5.5)
    noun = _ROLE_NOUNS.get(role, role)
    if race.empty:
        _empty(ax, f"No {noun} with sales yet")
    runners = race.drop_duplicates("userId")
    labels = dict(zip(runners["userId"], _display_names(runners)))
    for i, (user, line) in enumerate(race.groupby("userId", sort=False)):
        times = pd.concat([line["time"].iloc[:1], line["time"]])
        sales = [0, *line["sales"]]
        colour = _LINE_COLOURS[i % len(_LINE_COLOURS)]
        ax.step(times, sales, where="post", color=colour, linewidth=2.6 if i == 0 else 1.8,
                label=f"{labels[user]}: {sales[-1]:,}")
    if not race.empty:
        legend = ax.legend(fontsize=_TICK, frameon=False, loc="upper left", title=f"Top {noun}: sales",
                           title_fontsize=_TICK)
        _literally([*legend.get_texts(), legend.get_title()])
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
        locator = AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    return _finish(fig, ax, f"Sales race: top {noun}", "Time (UTC)", "Cumulative sales (purchases)", save_to)


def product_sales(sales: pd.DataFrame, user_id: str, role: str, top: int = 15,
                  save_to: str | PathLike[str] | None = None, names: dict[str, str] | None = None) -> Figure:
    """Sales of each product of one contributor, best seller on top, each labelled by its name when
    ``names`` (``analysis.product_names``) has it, its id added where two share a name.

    ``sales`` has columns role, userId, name, productId, sales (``analysis.sales_by_contributor``).
    """
    mine = sales[(sales["role"] == role) & (sales["userId"] == user_id)]
    mine = mine.sort_values(["sales", "productId"], ascending=[False, True]).head(top)
    fig, ax = _figure(len(mine))
    name = mine["name"].iloc[0] if len(mine) else user_id
    if mine.empty:
        _empty(ax, f"No sales yet for {name}")
    else:
        _bars(ax, _product_labels([str(p) for p in mine["productId"]], names or {}), [int(v) for v in mine["sales"]],
              [OTHER_COLOUR] * len(mine))
    return _finish(fig, ax, f"Sales per product: {name} ({role})", "Sales (purchases)", "Product", save_to)


def _product_labels(ids: list[str], names: dict[str, str]) -> list[str]:
    """Names for ids; the id where the name is unknown, and beside the name where two bars share one."""
    shown = [names.get(i) or i for i in ids]
    return [f"{label} ({i})" if label != i and shown.count(label) > 1 else label for label, i in zip(shown, ids)]


def batch_size_knob(knob: pd.DataFrame, max_window_s: float = 300,
                    save_to: str | PathLike[str] | None = None) -> Figure:
    """The cost knob: write units per 1,000 events against BatchSize, one group of bars per catalog size.

    ``knob`` has columns products, batch_size, write_units_per_1000, total_daily and window_s (as
    ``workshop.batching.knob`` measures them); each bar is labelled with its dollars a day and the batching
    window the batch needs to fill, marked when Lambda's ``max_window_s`` is too short for it to fill.
    """
    fig, ax = _figure()
    catalogs = sorted(knob["products"].unique())
    sizes = sorted(knob["batch_size"].unique())
    width = 0.8 / max(len(catalogs), 1)
    for n, products in enumerate(catalogs):
        rows = knob[knob["products"] == products].set_index("batch_size").reindex(sizes)
        positions = [i + (n - (len(catalogs) - 1) / 2) * width for i in range(len(sizes))]
        bars = ax.bar(positions, rows["write_units_per_1000"], width=width * 0.95,
                      color=_LINE_COLOURS[n % len(_LINE_COLOURS)], label=f"{products:,} products")
        labels = [f"${daily:,.2f}/day\n{window:,.0f} s" + (" (never fills)" if window > max_window_s else "")
                  for daily, window in zip(rows["total_daily"], rows["window_s"])]
        _literally(ax.bar_label(bars, labels=labels, padding=3, fontsize=_TICK - 2))
    ax.set_xticks(range(len(sizes)), [f"{size:,}" for size in sizes])
    _literally(ax.get_xticklabels())
    ax.margins(y=0.25)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    legend = ax.legend(title="catalog", frameon=False)
    _literally(legend.get_texts())
    return _finish(fig, ax, "The cost knob: bigger batches, fewer writes, longer waits",
                   "BatchSize (records per invocation)", "DynamoDB write units per 1,000 events", save_to)
