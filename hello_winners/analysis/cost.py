"""What the winner view costs to run: a price table as data and a per-service cost model.

Prices are us-east-1 list prices, as read in 2026-11; AWS changes them, so check the pricing pages
before quoting a figure. Free tiers, taxes and data transfer between services are left out: the model
compares designs, it does not predict an invoice. Sizes follow the pricing pages: 1 KB = 1,024 bytes
and 1 GB = 2**30 bytes.

Example: ``print(cost(Scenario("kit", events_per_day=10_000_000, reads_per_day=1_000)))`` prints one
line per billed item with its daily and monthly dollars; ``.frame()`` gives the same as a DataFrame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd

from hello_winners.errors import ConfigError
from hello_winners.view.capacity import KB, READ_UNIT_BYTES, WRITE_UNIT_BYTES

__all__ = [
    "Price",
    "CURRENT_PRICES",
    "ORIGINAL_PRICES",
    "ORIGINAL_STATED_DAILY",
    "Scenario",
    "CostLine",
    "CostBreakdown",
    "cost",
    "compare_consumers",
    "original_scenario",
    "PrecomputeVerdict",
    "precompute_or_on_demand",
    "with_price",
]

DAYS_PER_MONTH = 30
HOURS_PER_DAY = 24
SECONDS_PER_DAY = 86_400
GB = 2**30
PUT_PAYLOAD_UNIT_BYTES = 25 * KB
SHARD_RECORDS_PER_SECOND = 1_000
SHARD_BYTES_PER_SECOND = KB * KB


@dataclass(frozen=True)
class Price:
    """One list price: ``value`` US dollars per ``unit``, where it was read and when."""

    key: str
    service: str
    item: str
    value: float
    unit: str
    source: str
    as_read: str


def _table(*prices: Price) -> dict[str, Price]:
    return {price.key: price for price in prices}


_KINESIS = "Amazon Kinesis Data Streams pricing, aws.amazon.com/kinesis/data-streams/pricing/ (us-east-1)"
_LAMBDA = "AWS Lambda pricing, aws.amazon.com/lambda/pricing/ (us-east-1, x86)"
_DYNAMODB = "Amazon DynamoDB pricing for on-demand capacity, aws.amazon.com/dynamodb/pricing/on-demand/ (us-east-1)"
_APIGW = "Amazon API Gateway pricing, aws.amazon.com/api-gateway/pricing/ (us-east-1, HTTP APIs, first 300 million)"
_AS_READ = "as read 2026-11; list price, may have changed"

CURRENT_PRICES: dict[str, Price] = _table(
    Price("kinesis.shard_hour", "Kinesis", "shard-hours (provisioned)", 0.015, "USD per shard-hour", _KINESIS, _AS_READ),
    Price("kinesis.put_units", "Kinesis", "PUT payload units (25 KB, provisioned)", 0.014,
          "USD per million PUT payload units", _KINESIS, _AS_READ),
    Price("kinesis.stream_hour", "Kinesis", "stream-hours (on-demand)", 0.04, "USD per stream-hour", _KINESIS, _AS_READ),
    Price("kinesis.gb_in", "Kinesis", "data in (on-demand, records rounded up to 1 KB)", 0.08, "USD per GB",
          _KINESIS, _AS_READ),
    Price("kinesis.gb_out", "Kinesis", "data out (on-demand)", 0.04, "USD per GB", _KINESIS, _AS_READ),
    Price("lambda.requests", "Lambda", "requests", 0.20, "USD per million requests", _LAMBDA, _AS_READ),
    Price("lambda.gb_second", "Lambda", "compute", 0.0000166667, "USD per GB-second", _LAMBDA, _AS_READ),
    Price("dynamodb.write_units", "DynamoDB", "write request units (on-demand)", 0.625,
          "USD per million write request units", _DYNAMODB, _AS_READ + " (cut in Nov 2024)"),
    Price("dynamodb.read_units", "DynamoDB", "read request units (on-demand)", 0.125,
          "USD per million read request units", _DYNAMODB, _AS_READ + " (cut in Nov 2024)"),
    Price("apigateway.requests", "API Gateway", "HTTP API requests", 1.00, "USD per million requests", _APIGW,
          _AS_READ),
)

_ORIGINAL = "the original workshop's cost lesson (Hello, Retail!, 2017)"
_HISTORICAL = "historical us-east-1 list price of the original's time, from memory; verify before quoting"

# The original predates on-demand Kinesis (2021) and on-demand DynamoDB (2018): its tables were
# provisioned, so DynamoDB is priced per capacity-unit hour here and sized for the peak second.
ORIGINAL_PRICES: dict[str, Price] = _table(
    Price("kinesis.shard_hour", "Kinesis", "shard-hours (provisioned)", 0.015, "USD per shard-hour", _HISTORICAL,
          "2017"),
    Price("kinesis.put_units", "Kinesis", "PUT payload units (25 KB, provisioned)", 0.014,
          "USD per million PUT payload units", _HISTORICAL, "2017"),
    Price("lambda.requests", "Lambda", "invocations", 0.20, "USD per million requests", _ORIGINAL, "2017"),
    Price("lambda.gb_second", "Lambda", "compute", 0.00001667, "USD per GB-second", _HISTORICAL, "2017"),
    Price("dynamodb.wcu_hour", "DynamoDB", "write capacity unit-hours (provisioned)", 0.00065,
          "USD per write capacity unit-hour", _HISTORICAL + " ($0.0065 per 10 WCU-hours)", "2017"),
    Price("dynamodb.rcu_hour", "DynamoDB", "read capacity unit-hours (provisioned)", 0.00013,
          "USD per read capacity unit-hour", _HISTORICAL + " ($0.0065 per 50 RCU-hours)", "2017"),
    Price("apigateway.requests", "API Gateway", "REST API calls", 3.50, "USD per million requests", _ORIGINAL, "2017"),
)

# What the original's lesson says its scenario costs a day (10,000,000 events, 1,000 reads).
ORIGINAL_STATED_DAILY: dict[str, float] = {"Lambda": 2.0, "API Gateway": 0.0035, "DynamoDB": 10.0}


@dataclass(frozen=True)
class Scenario:
    """A day of traffic and how the kit's functions handle it.

    ``batch_size`` is the records per consumer invocation (1 means one invocation per event);
    ``write_units_per_event`` is what the consumer's benchmark measures (DynamoDB write units per
    stream event, after folding a batch); ``on_demand`` picks the stream's capacity mode, and a
    provisioned stream has ``shards`` shards (None: just enough for the peak second, at 1,000 records
    and 1 MB a second per shard); ``peak_events_per_second`` (default twice the average) also sizes
    provisioned DynamoDB.
    """

    name: str
    events_per_day: float
    reads_per_day: float
    batch_size: int = 100
    write_units_per_event: float = 0.3
    read_units_per_request: float = 1.0
    consumer_memory_mb: int = 256
    consumer_ms_per_batch: float = 200.0
    api_memory_mb: int = 256
    api_ms_per_call: float = 30.0
    on_demand: bool = False
    shards: int | None = None
    event_bytes: int = 400
    stream_readers: int = 1
    peak_events_per_second: float | None = None

    @property
    def peak(self) -> float:
        """Events in the busiest second."""
        return self.peak_events_per_second or 2 * self.events_per_day / SECONDS_PER_DAY

    @property
    def shard_count(self) -> int:
        """Shards of a provisioned stream: as given, or the fewest that carry the peak second."""
        if self.shards is not None:
            return self.shards
        by_records = self.peak / SHARD_RECORDS_PER_SECOND
        by_bytes = self.peak * self.event_bytes / SHARD_BYTES_PER_SECOND
        return max(1, math.ceil(max(by_records, by_bytes)))


@dataclass(frozen=True)
class CostLine:
    """One billed quantity of one service for one day."""

    service: str
    item: str
    quantity: float
    unit: str
    price: float
    daily: float


class CostBreakdown:
    """The daily and monthly (30-day) cost of a scenario, per billed item and per service."""

    def __init__(self, scenario: Scenario, lines: tuple[CostLine, ...]):
        self.scenario = scenario
        self.lines = lines

    @property
    def daily(self) -> float:
        return sum(line.daily for line in self.lines)

    @property
    def monthly(self) -> float:
        return self.daily * DAYS_PER_MONTH

    def frame(self) -> pd.DataFrame:
        """One row per billed item: quantity a day, unit price, daily and monthly US dollars."""
        frame = pd.DataFrame([vars(line) for line in self.lines],
                             columns=["service", "item", "quantity", "unit", "price", "daily"])
        frame["monthly"] = frame["daily"] * DAYS_PER_MONTH
        return frame

    def by_service(self) -> pd.Series:
        """Daily US dollars per service, in the order the services were billed."""
        return self.frame().groupby("service", sort=False)["daily"].sum()

    def __str__(self) -> str:
        frame = self.frame()
        rows = [f"{self.scenario.name}: {self.scenario.events_per_day:,.0f} events and "
                f"{self.scenario.reads_per_day:,.0f} reads a day"]
        width = max(len(f"{s} {i}") for s, i in zip(frame["service"], frame["item"]))
        for line in self.lines:
            label = f"{line.service} {line.item}"
            rows.append(f"  {label:<{width}}  {line.quantity:>16,.1f}  ${line.daily:>11,.4f}/day  "
                        f"${line.daily * DAYS_PER_MONTH:>12,.2f}/month")
        rows.append(f"  {'total':<{width}}  {'':>16}  ${self.daily:>11,.4f}/day  ${self.monthly:>12,.2f}/month")
        return "\n".join(rows)

    def _repr_html_(self) -> str:
        return self.frame().to_html(index=False, float_format=lambda v: f"{v:,.4f}")


def _line(prices: dict[str, Price], key: str, quantity: float, per: float = 1.0) -> CostLine:
    """Bill ``quantity`` of priced item ``key`` whose price is per ``per`` of that quantity."""
    price = prices[key]
    return CostLine(price.service, price.item, quantity, price.unit, price.value, quantity / per * price.value)


def _kinesis(s: Scenario, prices: dict[str, Price]) -> list[CostLine]:
    if s.on_demand:
        if "kinesis.stream_hour" not in prices:
            raise ConfigError("This price table has no on-demand Kinesis prices; use a provisioned stream (on_demand=False).")
        gb_in = s.events_per_day * math.ceil(s.event_bytes / KB) * KB / GB
        return [_line(prices, "kinesis.stream_hour", HOURS_PER_DAY),
                _line(prices, "kinesis.gb_in", gb_in),
                _line(prices, "kinesis.gb_out", gb_in * s.stream_readers)]
    put_units = s.events_per_day * math.ceil(s.event_bytes / PUT_PAYLOAD_UNIT_BYTES)
    return [_line(prices, "kinesis.shard_hour", s.shard_count * HOURS_PER_DAY),
            _line(prices, "kinesis.put_units", put_units, per=1e6)]


def _lambda(s: Scenario, prices: dict[str, Price]) -> list[CostLine]:
    invocations = math.ceil(s.events_per_day / s.batch_size)
    gb_seconds = (invocations * s.consumer_ms_per_batch / 1000 * s.consumer_memory_mb / 1024
                  + s.reads_per_day * s.api_ms_per_call / 1000 * s.api_memory_mb / 1024)
    return [_line(prices, "lambda.requests", invocations + s.reads_per_day, per=1e6),
            _line(prices, "lambda.gb_second", gb_seconds)]


def _dynamodb(s: Scenario, prices: dict[str, Price]) -> list[CostLine]:
    write_units = s.events_per_day * s.write_units_per_event
    read_units = s.reads_per_day * s.read_units_per_request
    if "dynamodb.write_units" in prices:
        return [_line(prices, "dynamodb.write_units", write_units, per=1e6),
                _line(prices, "dynamodb.read_units", read_units, per=1e6)]
    # Provisioned: capacity for the peak second, paid every hour of the day.
    write_capacity = max(1, math.ceil(s.peak * s.write_units_per_event))
    read_capacity = max(1, math.ceil(s.reads_per_day / SECONDS_PER_DAY * s.read_units_per_request))
    return [_line(prices, "dynamodb.wcu_hour", write_capacity * HOURS_PER_DAY),
            _line(prices, "dynamodb.rcu_hour", read_capacity * HOURS_PER_DAY)]


def cost(scenario: Scenario, prices: dict[str, Price] = CURRENT_PRICES) -> CostBreakdown:
    """The per-service daily cost of one scenario at the given prices (us-east-1, 2026-11 by default)."""
    if scenario.batch_size < 1 or scenario.events_per_day < 0 or scenario.reads_per_day < 0:
        raise ConfigError("A scenario needs a batch size of at least 1 and no negative traffic; fix the scenario.")
    api = [_line(prices, "apigateway.requests", scenario.reads_per_day, per=1e6)]
    lines = _kinesis(scenario, prices) + _lambda(scenario, prices) + _dynamodb(scenario, prices) + api
    return CostBreakdown(scenario, tuple(lines))


def compare_consumers(events_per_day: float = 10_000_000, reads_per_day: float = 1_000, *,
                      original_write_units: float = 2.0, kit_write_units: float = 0.3,
                      prices: dict[str, Price] = CURRENT_PRICES, **scenario_fields) -> pd.DataFrame:
    """Daily US dollars per service for the original consumer and this kit's, side by side.

    Both read the stream through an event source mapping in batches; they differ in the DynamoDB
    write units each event costs (the original writes per event, the kit folds a batch first). The kit's
    figure depends on the batch size and the catalog: ``workshop.batching.knob`` measures it, and lesson 6
    passes its measurement here, so that this table and the knob's bars agree.
    """
    designs = {
        "original": Scenario("original", events_per_day, reads_per_day,
                             write_units_per_event=original_write_units, **scenario_fields),
        "kit": Scenario("kit", events_per_day, reads_per_day, write_units_per_event=kit_write_units,
                        **scenario_fields),
    }
    table = pd.DataFrame({name: cost(s, prices).by_service() for name, s in designs.items()})
    table.loc["total"] = table.sum()
    table["kit / original"] = table["kit"] / table["original"]
    return table


def original_scenario(write_units_per_event: float = 2.0) -> pd.DataFrame:
    """The original lesson's scenario at its own prices, next to the figures it stated.

    The original's arithmetic counted one Lambda invocation per event and no compute time, and
    sized provisioned DynamoDB for its 200-events-a-second peak; this reproduces that.
    """
    scenario = Scenario("original, 2017 prices", 10_000_000, 1_000, batch_size=1,
                        write_units_per_event=write_units_per_event, consumer_ms_per_batch=0.0,
                        api_ms_per_call=0.0, peak_events_per_second=200)
    modelled = cost(scenario, ORIGINAL_PRICES).by_service()
    table = pd.DataFrame({"modelled": modelled, "stated": pd.Series(ORIGINAL_STATED_DAILY)})
    return table.reindex(modelled.index)


@dataclass(frozen=True)
class PrecomputeVerdict:
    """The two designs for answering reads over a day of page views, and which one is cheaper."""

    precompute: CostBreakdown
    on_demand: CostBreakdown
    verdict: str

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"precompute": self.precompute.by_service(),
                             "on demand": self.on_demand.by_service()}).fillna(0.0)


def precompute_or_on_demand(page_views_per_day: float = 100_000_000, reads_per_day: float = 1_000, *,
                            folded_write_units_per_view: float = 0.3, raw_item_bytes: int = 200,
                            precomputed_item_bytes: int = 4 * KB, eventually_consistent: bool = True,
                            prices: dict[str, Price] = CURRENT_PRICES, **scenario_fields) -> PrecomputeVerdict:
    """The original's question: keep a precomputed table, or compute each answer from raw activity?

    Precompute: the consumer folds each batch of views into a small table (``folded_write_units_per_view``)
    and a read fetches one precomputed item. On demand: every view is written raw (one write unit per
    item up to 1 KB) and every read queries the whole raw day, paying read units for all its bytes.
    Both are fed by the same stream and consumer.
    """
    read_factor = 0.5 if eventually_consistent else 1.0
    raw_write_units = math.ceil(raw_item_bytes / WRITE_UNIT_BYTES)
    raw_day_read_units = math.ceil(page_views_per_day * raw_item_bytes / READ_UNIT_BYTES) * read_factor
    precompute = cost(Scenario("precompute", page_views_per_day, reads_per_day,
                               write_units_per_event=folded_write_units_per_view,
                               read_units_per_request=math.ceil(precomputed_item_bytes / READ_UNIT_BYTES) * read_factor,
                               **scenario_fields), prices)
    on_demand = cost(Scenario("on demand", page_views_per_day, reads_per_day, write_units_per_event=raw_write_units,
                              read_units_per_request=raw_day_read_units, **scenario_fields), prices)
    cheaper, dearer = sorted([precompute, on_demand], key=lambda b: b.daily)
    verdict = (f"At {page_views_per_day:,.0f} page views and {reads_per_day:,.0f} reads a day, "
               f"{cheaper.scenario.name} costs ${cheaper.daily:,.2f} a day against ${dearer.daily:,.2f} for "
               f"{dearer.scenario.name} ({dearer.daily / cheaper.daily:,.1f} times as much): each on-demand "
               f"read pays for {raw_day_read_units:,.0f} read units of raw views, while precomputing pays "
               f"{folded_write_units_per_view:g} write units per view.")
    return PrecomputeVerdict(precompute, on_demand, verdict)


def with_price(prices: dict[str, Price], key: str, value: float) -> dict[str, Price]:
    """A copy of a price table with one price changed, to ask "what if this price moves?"."""
    return {**prices, key: replace(prices[key], value=value)}
