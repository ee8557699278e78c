"""The cost knob: DynamoDB write units and dollars a day against BatchSize and catalog size.

Measured by :func:`hello_winners.workshop.batching.knob` (the real consumer against the in-memory
stand-in, on a simulated busy hour of 100,000 events per catalog: a workshop room's 180 products and a
shop's 6,000), priced at 10,000,000 events a day. Each row is compared with a previous measurement of
the same figure, and says the batching window a batch needs to fill at that rate (the latency it adds).
"""

from hello_winners.workshop import batching

# Write units per 1,000 events measured before, by (products, BatchSize).
PREVIOUS = {(180, 100): 610, (180, 1_000): 200, (180, 10_000): 27,
            (6_000, 100): 907, (6_000, 1_000): 609, (6_000, 10_000): 315}


def run(quick):
    frame = batching.knob(events=10_000 if quick else 100_000)
    rows = []
    for row in frame.itertuples():
        window = f"{row.window_s:,.0f} s" + (" (over Lambda's 300 s: never fills)" if row.window_s > batching.MAX_WINDOW_S
                                             else "")
        rows.append({"name": f"cost knob: {row.products:,} products, BatchSize {row.batch_size:,}",
                     "figure": row.write_units_per_1000, "unit": "write units / 1,000 events",
                     "compared_with": f"previous {PREVIOUS[row.products, row.batch_size]}; "
                                      f"${row.dynamodb_daily:.2f}/day DynamoDB, ${row.total_daily:.2f}/day in all "
                                      f"at 10M events/day; window to fill {window}"})
    return rows
