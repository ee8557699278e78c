"""The cost model against hand calculations, and the price table's promises (unit, source, date)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from properties import examples

from hello_winners.analysis.cost import (
    CURRENT_PRICES, ORIGINAL_PRICES, Scenario, compare_consumers, cost, original_scenario,
    precompute_or_on_demand, with_price,
)
from hello_winners.errors import ConfigError


def test_every_price_states_its_value_unit_source_and_date():
    for prices in (CURRENT_PRICES, ORIGINAL_PRICES):
        for key, price in prices.items():
            assert price.key == key and price.value > 0
            assert price.unit.startswith("USD per ") and price.source and price.as_read
    for price in CURRENT_PRICES.values():
        assert "us-east-1" in price.source and "2026-11" in price.as_read and "may have changed" in price.as_read


def test_kit_scenario_matches_the_hand_calculation():
    """10,000,000 events and 1,000 reads a day, batches of 100, provisioned stream, on-demand tables."""
    breakdown = cost(Scenario("kit", events_per_day=10_000_000, reads_per_day=1_000, batch_size=100,
                              write_units_per_event=0.3, read_units_per_request=1.0,
                              consumer_memory_mb=256, consumer_ms_per_batch=200, api_memory_mb=256,
                              api_ms_per_call=30, event_bytes=400))
    # Peak 2 x 10e6 / 86,400 = 231.5 events/s, under one shard's 1,000 records and 1 MB a second.
    kinesis = 1 * 24 * 0.015 + 10_000_000 * 1 / 1e6 * 0.014          # 0.36 + 0.14 (400 B = 1 PUT unit)
    invocations = 10_000_000 / 100 + 1_000                            # consumer batches + API calls
    gb_seconds = 100_000 * 0.200 * 256 / 1024 + 1_000 * 0.030 * 256 / 1024   # 5,000 + 7.5
    lam = invocations / 1e6 * 0.20 + gb_seconds * 0.0000166667        # 0.0202 + 0.0834585
    dynamodb = 10_000_000 * 0.3 / 1e6 * 0.625 + 1_000 * 1.0 / 1e6 * 0.125   # 1.875 + 0.000125
    api = 1_000 / 1e6 * 1.00                                          # 0.001
    by_service = breakdown.by_service()
    assert by_service["Kinesis"] == pytest.approx(0.50)
    assert by_service["Lambda"] == pytest.approx(lam) == pytest.approx(0.1036585, rel=1e-6)
    assert by_service["DynamoDB"] == pytest.approx(dynamodb)
    assert by_service["API Gateway"] == pytest.approx(api)
    total = kinesis + lam + dynamodb + api                            # 2.4797835
    assert breakdown.daily == pytest.approx(total) == pytest.approx(2.4797835, rel=1e-6)
    assert breakdown.monthly == pytest.approx(30 * total)
    assert breakdown.frame()["monthly"].sum() == pytest.approx(30 * total)


def test_on_demand_stream_scenario_matches_the_hand_calculation():
    """1,000,000 events of 1,500 bytes read by two consumers, batches of 10, 500 reads a day."""
    breakdown = cost(Scenario("small", events_per_day=1_000_000, reads_per_day=500, batch_size=10,
                              write_units_per_event=2.0, consumer_memory_mb=128, consumer_ms_per_batch=50,
                              api_memory_mb=512, api_ms_per_call=100, on_demand=True, event_bytes=1_500,
                              stream_readers=2))
    gb_in = 1_000_000 * 2_048 / 2**30                                 # 1,500 B rounds up to 2 KB: 1.9073 GB
    kinesis = 24 * 0.04 + gb_in * 0.08 + 2 * gb_in * 0.04             # 0.96 + 0.1525879 + 0.1525879
    lam = (100_000 + 500) / 1e6 * 0.20 + (100_000 * 0.05 * 0.125 + 500 * 0.1 * 0.5) * 0.0000166667
    #     0.0201                      + (625 + 25 GB-s) * price = 0.0108334
    dynamodb = 2_000_000 / 1e6 * 0.625 + 500 / 1e6 * 0.125           # 1.25 + 0.0000625
    by_service = breakdown.by_service()
    assert by_service["Kinesis"] == pytest.approx(kinesis) == pytest.approx(1.2651758, rel=1e-6)
    assert by_service["Lambda"] == pytest.approx(lam) == pytest.approx(0.0309334, rel=1e-5)
    assert by_service["DynamoDB"] == pytest.approx(dynamodb)
    assert by_service["API Gateway"] == pytest.approx(0.0005)


def test_the_original_scenario_reproduces_its_stated_lambda_and_api_figures():
    table = original_scenario()
    assert table.loc["Lambda", "modelled"] == pytest.approx(2.0002)       # 10,001,000 invocations x $0.20/M
    assert table.loc["API Gateway", "modelled"] == pytest.approx(0.0035)  # 1,000 x $3.50/M
    # Provisioned for the 200 events/s peak at 2 write units each: 400 WCU x 24 h x $0.00065,
    # plus the 1-RCU floor: 24 h x $0.00013.
    assert table.loc["DynamoDB", "modelled"] == pytest.approx(400 * 24 * 0.00065 + 24 * 0.00013)
    assert table.loc["DynamoDB", "stated"] == 10.0


def test_the_original_claim_five_tps_under_four_dollars_a_month_holds_at_its_prices():
    five_tps = Scenario("5 TPS", events_per_day=5 * 86_400, reads_per_day=5 * 86_400, write_units_per_event=1.0,
                        peak_events_per_second=5)
    monthly = cost(five_tps, ORIGINAL_PRICES).frame().query("service == 'DynamoDB'")["monthly"].sum()
    assert monthly == pytest.approx((5 * 0.00065 + 5 * 0.00013) * 24 * 30)  # 2.808
    assert monthly < 4


def test_kit_and_original_consumers_differ_only_in_dynamodb_writes():
    table = compare_consumers(10_000_000, 1_000, original_write_units=2.0, kit_write_units=0.3)
    assert table.loc["Kinesis", "kit"] == table.loc["Kinesis", "original"]
    assert table.loc["DynamoDB", "original"] == pytest.approx(20_000_000 / 1e6 * 0.625 + 0.000125)
    assert table.loc["DynamoDB", "kit"] == pytest.approx(3_000_000 / 1e6 * 0.625 + 0.000125)
    assert table.loc["total", "kit / original"] < 0.25


def test_precompute_beats_on_demand_at_100_million_page_views():
    result = precompute_or_on_demand(100_000_000, 1_000, raw_item_bytes=200)
    # On demand, one read queries the raw day: ceil(100e6 x 200 B / 4 KB) = 4,882,813 units, halved for
    # eventually consistent reads = 2,441,406.5 read units; 1,000 reads and 100e6 one-unit raw writes.
    on_demand_dynamodb = 1_000 * 2_441_406.5 / 1e6 * 0.125 + 100_000_000 / 1e6 * 0.625   # 305.18 + 62.5
    precompute_dynamodb = 30_000_000 / 1e6 * 0.625 + 1_000 * 0.5 / 1e6 * 0.125          # 18.75
    frame = result.frame()
    assert frame.loc["DynamoDB", "on demand"] == pytest.approx(on_demand_dynamodb)
    assert frame.loc["DynamoDB", "precompute"] == pytest.approx(precompute_dynamodb)
    assert result.verdict.count(".") >= 1 and "precompute costs" in result.verdict


def test_on_demand_wins_when_reads_are_rare_and_precomputing_writes_more_than_raw():
    result = precompute_or_on_demand(10_000, 1, folded_write_units_per_view=2.0)
    assert result.on_demand.daily <= result.precompute.daily
    assert result.verdict.startswith("At 10,000 page views and 1 reads a day, on demand costs")


def test_printable_table_names_every_service_and_the_total():
    text = str(cost(Scenario("kit", 10_000_000, 1_000)))
    for word in ("Kinesis", "Lambda", "DynamoDB", "API Gateway", "total", "/month"):
        assert word in text


def test_bad_scenarios_raise_config_errors():
    with pytest.raises(ConfigError, match="batch size"):
        cost(Scenario("bad", 100, 1, batch_size=0))
    with pytest.raises(ConfigError, match="on-demand"):
        cost(Scenario("2017", 100, 1, on_demand=True), ORIGINAL_PRICES)


def test_with_price_changes_one_price_and_leaves_the_table_alone():
    cheaper = with_price(CURRENT_PRICES, "dynamodb.write_units", 1.25)
    assert cheaper["dynamodb.write_units"].value == 1.25 and CURRENT_PRICES["dynamodb.write_units"].value == 0.625


@settings(max_examples=examples(50), deadline=None)
@given(events=st.integers(0, 10**9), reads=st.integers(0, 10**7), factor=st.integers(2, 5))
def test_more_traffic_never_costs_less(events, reads, factor):
    small = cost(Scenario("s", events, reads)).daily
    big = cost(Scenario("b", events * factor, reads * factor)).daily
    assert big >= small
