"""The cost knob: bigger batches fold more events per write, and the dollars follow the write units."""

import pytest

from hello_winners.analysis.cost import SECONDS_PER_DAY
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
