"""The charts' content, read back from the figure objects: bars, labels, the gold winner, titles, axes."""

import io

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from hello_winners.analysis import charts  # noqa: E402

SCORES = pd.DataFrame({
    "userId": ["a", "b", "c", "d", "e"],
    "role": ["merchant", "merchant", "merchant", "merchant", "photographer"],
    "name": ["Ann", "Bo", "Cy", "Ann", "Eve"],
    "score": [7, 9, 9, 2, 4],
})


def _bars(fig):
    ax = fig.axes[0]
    return ax, [p for p in ax.patches if isinstance(p, Rectangle)]


def test_leaderboard_draws_one_labelled_bar_per_contributor_with_tied_winners_in_gold(tmp_path):
    fig = charts.leaderboard(SCORES, "merchant", save_to=tmp_path / "board.png")
    ax, bars = _bars(fig)
    assert len(bars) == 4
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Bo", "Cy", "Ann (a)", "Ann (d)"]
    assert [b.get_width() for b in bars] == [9, 9, 7, 2]
    colours = [to_hex(b.get_facecolor()) for b in bars]
    assert colours[:2] == [charts.WINNER_COLOUR] * 2 and charts.WINNER_COLOUR not in colours[2:]
    assert [t.get_text() for t in ax.texts] == ["9", "9", "7", "2"]
    assert ax.get_title(loc="left") == "Leaderboard: top merchants"
    assert "Sales" in ax.get_xlabel() and ax.get_ylabel() == "Merchants"
    assert (tmp_path / "board.png").stat().st_size > 1_000


def test_leaderboard_keeps_only_the_top_of_one_role():
    ax, bars = _bars(charts.leaderboard(SCORES, "merchant", top=2))
    assert len(bars) == 2
    ax, bars = _bars(charts.leaderboard(SCORES, "photographer"))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Eve"]


def test_leaderboard_of_a_role_without_sales_says_so_and_keeps_its_labels():
    ax, bars = _bars(charts.leaderboard(SCORES.iloc[:0], "photographer"))
    assert bars == [] and "No photographers" in ax.texts[0].get_text()
    assert ax.get_title(loc="left") and ax.get_xlabel() and ax.get_ylabel()


def test_sales_race_draws_one_step_line_per_contributor_ending_at_their_total():
    t = pd.Timestamp("2026-11-01T12:00Z")
    race = pd.DataFrame({"time": [t, t + pd.Timedelta("5min"), t + pd.Timedelta("1min")],
                         "userId": ["b", "b", "a"], "name": ["Bo", "Bo", "Ann"], "sales": [1, 2, 1]})
    ax = charts.sales_race(race, "merchant").axes[0]
    lines = ax.get_lines()
    assert len(lines) == 2
    assert [line.get_ydata()[-1] for line in lines] == [2, 1] and lines[0].get_ydata()[0] == 0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Bo: 2", "Ann: 1"]
    assert ax.get_title(loc="left") == "Sales race: top merchants"
    assert ax.get_xlabel() == "Time (UTC)" and "Cumulative sales" in ax.get_ylabel()


def test_product_sales_shows_one_contributors_products_best_first():
    sales = pd.DataFrame({"role": ["merchant"] * 3 + ["photographer"], "userId": ["a", "a", "b", "a"],
                          "name": ["Ann", "Ann", "Bo", "Ann"], "productId": ["p1", "p2", "p3", "p4"],
                          "sales": [1, 5, 9, 9]})
    fig = charts.product_sales(sales, "a", "merchant")
    ax, bars = _bars(fig)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["p2", "p1"]
    assert [b.get_width() for b in bars] == [5, 1]
    assert ax.get_title(loc="left") == "Sales per product: Ann (merchant)"
    assert ax.get_xlabel() == "Sales (purchases)" and ax.get_ylabel() == "Product"


MATHTEXT = r"$\frac{a}$ money"  # matplotlib would read $...$ as mathtext, which this is not


def _drawn(fig):
    """Every text of a figure, drawn (saved) first, with whether matplotlib would read it as mathtext."""
    fig.savefig(io.BytesIO(), format="png")
    return {t.get_text(): t.get_parse_math() for t in fig.findobj(Text) if t.get_visible()}


def test_every_chart_draws_names_that_look_like_mathtext_literally():
    scores = SCORES.assign(name=[MATHTEXT, "$5 shop$", "Cy", "Ann", "Eve"])
    drawn = _drawn(charts.leaderboard(scores, "merchant"))
    assert drawn[MATHTEXT] is False and drawn["$5 shop$"] is False

    t = pd.Timestamp("2026-11-01T12:00Z")
    race = pd.DataFrame({"time": [t, t], "userId": ["b", "a"], "name": [MATHTEXT, "$x$"], "sales": [1, 1]})
    drawn = _drawn(charts.sales_race(race, "merchant"))
    assert drawn[MATHTEXT + ": 1"] is False and drawn["$x$: 1"] is False

    sales = pd.DataFrame({"role": ["merchant"], "userId": ["a"], "name": [MATHTEXT], "productId": ["$p_1$"],
                          "sales": [3]})
    drawn = _drawn(charts.product_sales(sales, "a", "merchant"))
    assert drawn[f"Sales per product: {MATHTEXT} (merchant)"] is False and drawn["$p_1$"] is False


def test_a_contributor_without_sales_is_named_literally_too():
    sales = pd.DataFrame(columns=["role", "userId", "name", "productId", "sales"])
    assert _drawn(charts.product_sales(sales, MATHTEXT, "merchant"))[f"No sales yet for {MATHTEXT}"] is False


def test_product_sales_labels_products_by_name_with_the_id_where_two_share_one():
    from hello_winners import analysis, events

    sales = pd.DataFrame({"role": ["merchant"] * 3, "userId": ["a"] * 3, "name": ["Ann"] * 3,
                          "productId": ["p1", "p2", "p3"], "sales": [3, 2, 1]})
    created = [events.product_create("a", "Ann", p, brand="B", name=n, description="d", category="c")
               for p, n in (("p1", "Boot"), ("p2", "Boot"), ("p1", "Renamed later"))]
    names = analysis.product_names(created)
    assert names == {"p1": "Boot", "p2": "Boot"}
    ax, _ = _bars(charts.product_sales(sales, "a", "merchant", names=names))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Boot (p1)", "Boot (p2)", "p3"]


def test_the_cost_knob_chart_shows_each_catalogs_write_units_dollars_and_window():
    import pandas as pd

    knob = pd.DataFrame([
        {"products": 180, "batch_size": 100, "write_units_per_1000": 616.0, "total_daily": 4.46, "window_s": 3.5},
        {"products": 180, "batch_size": 10_000, "write_units_per_1000": 26.0, "total_daily": 0.67, "window_s": 346.0},
        {"products": 6_000, "batch_size": 100, "write_units_per_1000": 896.0, "total_daily": 6.21, "window_s": 3.5},
        {"products": 6_000, "batch_size": 10_000, "write_units_per_1000": 318.0, "total_daily": 2.49, "window_s": 346.0},
    ])
    fig = charts.batch_size_knob(knob)
    ax = fig.axes[0]
    heights = sorted(round(bar.get_height()) for bar in ax.patches)
    assert heights == [26, 318, 616, 896]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["100", "10,000"]
    labels = [t.get_text() for t in ax.texts]
    assert "$4.46/day\n4 s" in labels and "$0.67/day\n346 s (never fills)" in labels
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["180 products", "6,000 products"]
    fig.savefig(io.BytesIO())
