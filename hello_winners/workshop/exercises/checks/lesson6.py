"""The checkers of lesson 6, extra credit."""

import pandas as pd

from hello_winners import analysis, events
from hello_winners.game import eventlog
from hello_winners.workshop.exercises import figures
from hello_winners.workshop.exercises.checks import samples
from hello_winners.workshop.exercises.checks.cases import chart_axes, check, titled


def sales_per_category(function):
    """Check sales_per_category(frame) -> Series of purchases per category."""
    check("sales_per_category", _sales_per_category, function)


def _frame(*sequence):
    return eventlog.to_frame(sequence)


def _at(minute):
    return f"2017-06-13T16:{minute:02d}:00.000Z"


def _bought(product, minute, customer="c1"):
    return events.product_purchase(customer, "Cy", product, time=_at(minute))


def contributor_sales(function):
    """Check contributor_sales(frame, role) -> per contributor and product: sales, first and last sale."""
    check("contributor_sales", _contributor_sales, function)


_SALES_COLUMNS = ["userId", "name", "productId", "sales", "firstSale", "lastSale"]


def _sales_rows(table):
    return [(str(u), str(n), str(p), int(s), pd.Timestamp(f), pd.Timestamp(last))
            for u, n, p, s, f, last in table[_SALES_COLUMNS].itertuples(index=False)]


def _contributor_sales(c, function):
    day = _frame(samples.create("m1", "Mia", "p1"), samples.create("m2", "Max", "p2"), samples.create("m2", "Max", "p3"),
                 _bought("p1", 5),
                 events.product_image("f1", "Finn", "p1", "https://example.com/p1.jpg", time=_at(7)), _bought("p1", 9), _bought("p2", 12),
                 samples.create("m9", "Moe", "p2"), _bought("p3", 20), _bought("p3", 22), _bought("p3", 25), _bought("p1", 30),
                 _bought("p7", 31))
    cases = [("the merchants of a small day (p2 created twice: a conflict)", "merchant",
              "who added a product is analysis.attribution(frame)'s answer: the first create wins"),
             ("its photographers (p1 was bought once before its photo)", "photographer",
              "every purchase of the product counts, also those before the photo: join the purchases per product "
              "to attribution(frame), whenever they happened")]
    for case, role, hint in cases:
        with c.on(case, "group the purchases by productId (size, min and max of time), then join analysis.attribution",
                  key="group-purchases-by-productid-size"):
            got = function(day, role)
            c.expect(isinstance(got, pd.DataFrame), f"it returned a {type(got).__name__}, not a DataFrame",
                     "return a DataFrame with columns " + ", ".join(_SALES_COLUMNS),
                     key="return-dataframe-columns-join-sales")
            c.expect(list(got.columns) == _SALES_COLUMNS, f"its columns are {list(got.columns)}",
                     "columns userId, name, productId, sales, firstSale, lastSale: rename the role's columns of "
                     "attribution, and agg(sales='size', firstSale='min', lastSale='max') on the purchases' time",
                     key="columns-userid-name-productid-sales")
            want = analysis.sales_by_contributor(day)
            want = want[want["role"] == role]
            rows, expected = _sales_rows(got), _sales_rows(want)
            c.expect(sorted(rows, key=str) == sorted(expected, key=str),
                     f"its rows are {_brief(rows)}, expected {_brief(expected)}", hint, key="sales-rows-differ")
            c.expect(rows == expected, f"its rows are in the order {[r[2] for r in rows]}, expected {[r[2] for r in expected]}",
                     "the contributor with most sales first (their total: groupby('userId')['sales'].transform('sum')), "
                     "ties by userId, then their products by sales, ties by productId",
                     key="contributor-most-sales-first-their")
            c.expect(list(got.index) == list(range(len(got))), f"its index is {list(got.index)}",
                     "sort with ignore_index=True, so the rows are numbered 0..n-1", key="sort-ignore-index-true-so")
    return "conflicts, purchases before the photo, first and last sale"


def _brief(rows):
    return [(user, product, sales, f"{first:%H:%M}-{last:%H:%M}") for user, _, product, sales, first, last in rows]


def race_chart(function):
    """Check race_chart(race, role) -> a Figure with one cumulative line per contributor, a legend and titles."""
    check("race_chart", _race_chart, function)


def _race(*sales):
    """A sales race as analysis.sales_race returns it, from (minute, userId, name) purchases, leader first."""
    rows = pd.DataFrame([(pd.Timestamp(_at(m)), u, n) for m, u, n in sales], columns=["time", "userId", "name"])
    rows["sales"] = rows.groupby("userId").cumcount() + 1
    return rows.astype({"userId": "category", "name": "category"})


def _race_chart(c, function):
    race = _race((1, "m1", "Mia"), (3, "m1", "Mia"), (4, "m1", "Mia"), (2, "m2", "Max"), (5, "m2", "Max"), (7, "m3", "Mo"))
    with c.on("a race of three merchants", "one line per contributor: for _, line in race.groupby('userId', "
              "observed=True): ax.step(line['time'], line['sales'], where='post', label=...)",
              key="one-line-per-contributor-line"):
        fig = function(race, "merchant")
        ax = chart_axes(fig)
        drawn = figures.lines(ax)
        c.expect(drawn, "the chart has no labelled lines", "draw each contributor's line with label=their name",
                 key="draw-each-contributors-line-label")
        c.expect(set(drawn) == {"Mia", "Max", "Mo"}, f"its lines are labelled {sorted(drawn)}",
                 "one line per contributor (groupby('userId')), labelled with their name, not their userId",
                 key="one-line-per-contributor-groupby")
        finals = {label: ys[-1] for label, ys in drawn.items()}
        c.expect(finals == {"Mia": 3, "Max": 2, "Mo": 1}, f"the lines end at {finals}, expected Mia 3, Max 2, Mo 1",
                 "plot the sales column: it already counts up, one more at each purchase",
                 key="plot-sales-column-already-counts")
        c.expect(all(ys == sorted(ys) for ys in drawn.values()), "a line goes down", "plot each line in time order",
                 key="plot-each-line-time-order")
        c.expect(ax.get_legend() is not None, "the chart has no legend", "ax.legend(): which line is whose",
                 key="ax-legend-which-line-whose")
        titled(c, ax, "time, and cumulative sales")
    return "one cumulative line each, named, with a legend and titles"


def _sales_per_category(c, function):
    cases = [
        ("two products in two categories", "count purchases per category of the purchased product",
         _frame(samples.create("m1", "Mia", "p1", "Shoes"), samples.create("m1", "Mia", "p2", "Tops"),
                samples.purchase("p1"), samples.purchase("p2"), samples.purchase("p1")), [("Shoes", 2), ("Tops", 1)]),
        ("a product created twice with two categories (a conflict)", ("a product's category is its first create's: "
         "drop_duplicates('productId') on the creates"),
         _frame(samples.create("m1", "Mia", "p1", "Shoes"), samples.create("m2", "Max", "p1", "Beauty"), samples.purchase("p1")),
         [("Shoes", 1)]),
        ("a purchase of a product nobody created", "leave out purchases whose product has no category (dropna)",
         _frame(samples.create("m1", "Mia", "p1", "Tops"), samples.purchase("p1"), samples.purchase("p7")), [("Tops", 1)]),
        ("two categories with as many purchases (a tie)", ("order ties by category name: sort_index(), then a "
         "stable sort_values(ascending=False)"),
         _frame(samples.create("m1", "Mia", "p1", "Tops"), samples.create("m1", "Mia", "p2", "Beauty"), samples.purchase("p1"),
                samples.purchase("p2")), [("Beauty", 1), ("Tops", 1)]),
    ]
    for case, hint, frame, expected in cases:
        with c.on(case, "work on the frame's columns kind, productId and category",
                  key="work-frames-columns-kind-productid"):
            got = function(frame)
            c.expect(isinstance(got, pd.Series), f"it returned a {type(got).__name__}, not a Series",
                     "return a Series indexed by category, e.g. from value_counts()",
                     key="return-series-indexed-by-category")
            pairs = [(str(k), int(v)) for k, v in got.items()]
            if sorted(pairs) == sorted(expected) and isinstance(got.index.dtype, pd.CategoricalDtype):
                hint = _CATEGORICAL_HINT
            c.expect(pairs == expected, f"it returned {pairs}, expected {expected}", hint, key="category-counts-differ")
    return "conflicts, unknown products and ties handled"


# Series.map on a categorical column keeps the category dtype when the mapping is one-to-one (here, two
# products in two categories), and a categorical index sorts in category order (its products'), not by name.
_CATEGORICAL_HINT = ("its index is categorical: the frame's productId is a category column, Series.map kept that "
                     "dtype, and sort_index() sorts categories in their own order (the products'), not by name; "
                     "map frame['productId'].astype('string') instead, then sort_index() sorts by category name")
