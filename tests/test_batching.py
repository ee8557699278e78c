"""The cost knob: bigger batches fold more events per write, and the dollars follow the write units."""

import pytest

from hello_winners.analysis.cost import SECONDS_PER_DAY, compare_consumers
from hello_winners.workshop import batching


@pytest.fixture(scope="module")
def frame():
    return batching.knob(batch_sizes=(10, 100, 1_000), catalogs=(30, 300), events=3_000)


def test_a_bigger_batch_costs_fewer_writes_and_fewer_dollars(frame):
    for _, rows in frame.groupby("products"):
        assert rows["write_units_per_1000"].is_monotonic_decreasing
        assert rows["dynamodb_daily"].is_monotonic_decreasing and rows["total_daily"].is_monotonic_decreasing


def test_a_bigger_catalog_folds_less(frame):
    small, large = (frame[frame["products"] == n].set_index("batch_size") for n in (30, 300))
    assert (large["write_units_per_1000"] > small["write_units_per_1000"]).all()


def test_dollars_are_the_write_units_at_the_on_demand_price_and_the_window_fills_a_batch(frame):
    row = frame.iloc[0]
    assert row["dynamodb_daily"] == pytest.approx(10_000_000 * row["write_units_per_1000"] / 1000 * 0.625e-6
                                                  + 1_000 * 0.125e-6)
    assert row["window_s"] * 10_000_000 / SECONDS_PER_DAY / 4 == pytest.approx(row["batch_size"])


def test_compare_consumers_prices_the_kit_as_the_knob_does_given_the_write_units_it_measured(frame):
    """Lesson 6 put $0.78 to $6.09 a day beside compare_consumers' $2.48, unexplained: the same 10,000,000
    events at the same BatchSize are the same dollars once compare_consumers is given the measured write units."""
    for row in frame.itertuples():
        table = compare_consumers(10_000_000, 1_000, kit_write_units=row.write_units_per_1000 / 1000,
                                  batch_size=row.batch_size)
        assert table.loc["total", "kit"] == pytest.approx(row.total_daily)
        assert table.loc["DynamoDB", "kit"] == pytest.approx(row.dynamodb_daily)


def test_the_knob_shows_its_progress_when_asked(capsys):
    batching.knob(batch_sizes=(10, 100), catalogs=(30,), events=300, progress=True)
    shown = capsys.readouterr().err
    assert "measuring the knob" in shown and "3/3" in shown, shown
    batching.knob(batch_sizes=(10,), catalogs=(30,), events=300)
    assert capsys.readouterr().err == ""
