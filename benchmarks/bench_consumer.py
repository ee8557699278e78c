"""What the winner-view consumer costs in DynamoDB writes, beside the original design and the floor.

Rows, each on the same log, the same shards and the same batches:

- the ORIGINAL per-event design, re-implemented here faithfully: per create, PutItem the product's
  contribution; per image, UpdateItem it; per purchase, GetItem the contribution, then UpdateItem the
  merchant's score (+1) and UpdateItem the photographer's score (+1). It keeps no retry bookkeeping
  and writes no rejects (it had neither);
- this consumer (:mod:`hello_winners.view.consumer`), its own tally of the write units it used;
- the floor: one write per item whose state a batch changes (each product whose contributors or
  purchase count change, each contributor score that moves, each rejected record).

Pricing rule, the same for all three (:func:`hello_winners.view.capacity.write_units`): a write costs
ceil(larger of the item before / after, in KB) units, at least 1; a failed conditional write is
billed on the existing item; a write to a Scores item also costs ScoresByRole index writes: one put
for a new entry, a delete plus a put when the score (the index range key) changes. Reads are not
counted. Logs: data/workshop-day.jsonl at BatchSize 100 (a simulated game when the file is absent),
and a simulated busy hour of 100,000 events at BatchSize 1,000, on 4 shards keyed by product id.

Throughput is the handler in process against :class:`~hello_winners.workshop.doubles.MemoryDynamoDB`, an in-memory stand-in that
answers instantly (no network, no service time), median of several runs. The consumer's final
Scores are asserted equal to the reference winners, so a cheap but wrong consumer cannot pass.
"""

import base64
import statistics
import time
from datetime import timedelta
from pathlib import Path


from hello_winners import events
from hello_winners.view import capacity, consumer, tables
from hello_winners.view.delivery import lambda_batches
from hello_winners.workshop.doubles import MemoryDynamoDB
from hello_winners.errors import EventError
from hello_winners.game.eventlog import read_log
from hello_winners.game.reference import winners
from hello_winners.game.simulator import simulate

WORKSHOP_DAY = Path(__file__).resolve().parent.parent / "data" / "workshop-day.jsonl"
SHARDS = 4


# --- the three designs ------------------------------------------------------------------------

def consumer_units(batches, names):
    """(write units the consumer logged, its final scores) over the batches, on a fresh stand-in."""
    store, lines = MemoryDynamoDB(names), []
    for batch in batches:
        response = consumer.process(batch, store, names, log=lines.append)
        assert response == {"batchItemFailures": []}
    return sum(line["writeUnits"] for line in lines), _scores(store.scan(TableName=names[tables.SCORES])["Items"])


def original_units(log):
    """Write units of the original per-event design (reads are not counted)."""
    products, scores, units = {}, {}, 0
    for event in log:
        kind, data, who = _parse(event)
        if kind in ("create", "image") and who:
            before = products.get(data["id"])
            role = "merchant" if kind == "create" else "photographer"
            after = dict(before or {"productId": {"S": data["id"]}}, **{role: {"S": who[0]}, f"{role}Name": {"S": who[1]}})
            products[data["id"]] = after
            units += capacity.write_units(before, after)
        elif kind == "purchase":
            item = products.get(data["id"], {})  # the GetItem
            for role in ("merchant", "photographer"):
                if role in item:
                    units += _add_score(scores, item[role]["S"], role, item[f"{role}Name"]["S"], 1)
    return units


def floor_units(batches):
    """One write per item a batch changes, on minimal items (no bookkeeping), by the same rules."""
    known, purchases, scores, units = {}, {}, {}, 0
    for batch in batches:
        changed_products, moves = set(), {}
        for record in batch["Records"]:
            try:
                event = events.validate(events.decode(base64.b64decode(record["kinesis"]["data"])))
            except EventError:
                units += 1  # a reject item
                continue
            kind, data, who = _parse(event)
            product = data.get("id")
            if kind == "purchase":
                purchases[product] = purchases.get(product, 0) + 1
                changed_products.add(product)
                for role in ("merchant", "photographer"):
                    if (product, role) in known:
                        key = known[product, role]
                        moves[key] = moves.get(key, 0) + 1
            elif kind in ("create", "image"):
                role = "merchant" if kind == "create" else "photographer"
                if who is None or (product, role) in known:
                    units += 1  # a reject item
                    continue
                known[product, role] = (who[0], role, who[1])
                changed_products.add(product)
                if purchases.get(product):
                    moves[known[product, role]] = moves.get(known[product, role], 0) + purchases[product]
        units += len(changed_products)  # minimal product items stay far below 1 KB
        for (user, role, name), amount in moves.items():
            units += _add_score(scores, user, role, name, amount)
    return units


def _parse(event):
    kind = events.kind(event)
    who = events.parse_origin(event["origin"]) if kind in ("create", "image") else None
    return kind, event["data"], who


def _add_score(scores, user, role, name, amount):
    """Units of one score update on a minimal Scores item {userId, role, score, name}."""
    before = scores.get((user, role))
    after = dict(before or {"userId": {"S": user}, "role": {"S": role}, "name": {"S": name}})
    after["score"] = {"N": str(int(before["score"]["N"]) + amount if before else amount)}
    scores[user, role] = after
    return capacity.write_units(before, after) + capacity.index_write_units(before, after)


def _scores(items):
    return {(i["userId"]["S"], i["role"]["S"]): int(i["score"]["N"]) for i in items}


def _reference(log):
    found = winners(log)
    return {(w["userId"], role): w["score"] for role, rows in found.items() for w in rows}


# --- the rows ---------------------------------------------------------------------------------

def compare(label, log, batch_size):
    """Rows for the three designs on one log, after checking the consumer's tallies are exact."""
    names = tables.table_names("bench-")
    batches = lambda_batches(log, shards=SHARDS, batch_size=batch_size)
    ours, final = consumer_units(batches, names)
    assert final == _reference(log), f"{label}: the consumer's scores differ from the reference winners"
    per_k = 1000 / len(log)
    original, floor = original_units(log) * per_k, floor_units(batches) * per_k
    ours *= per_k
    return [
        {"name": f"{label}: original per-event design", "figure": original, "unit": "write units / 1,000 events",
         "compared_with": f"floor: {floor:.1f}"},
        {"name": f"{label}: this consumer (exact tallies checked)", "figure": ours,
         "unit": "write units / 1,000 events",
         "compared_with": f"floor {floor:.1f}, target <= 1.5x: {ours / floor:.2f}x; original: {original:.1f}"},
        {"name": f"{label}: floor (one write per changed item)", "figure": floor,
         "unit": "write units / 1,000 events", "compared_with": f"original: {original:.1f}"},
    ]


def throughput(log, batch_size, runs):
    """Median events/s of the handler over the log against the instant in-memory stand-in."""
    names = tables.table_names("bench-")
    batches = lambda_batches(log, shards=SHARDS, batch_size=batch_size)
    rates = []
    for _ in range(runs):
        store = MemoryDynamoDB(names)
        started = time.perf_counter()
        for batch in batches:
            consumer.process(batch, store, names, log=lambda _line: None)
        rates.append(len(log) / (time.perf_counter() - started))
    return statistics.median(rates)


def _workshop_day(quick):
    if WORKSHOP_DAY.exists() and not quick:
        return "workshop day (data/workshop-day.jsonl)", list(read_log(WORKSHOP_DAY))
    return "workshop day (simulated, 30 participants)", list(simulate(seed=7, participants=30))


def run(quick):
    label, day = _workshop_day(quick)
    hour_size = 10_000 if quick else 100_000
    hour = list(simulate(seed=11, participants=60, duration=timedelta(hours=1), events=hour_size))
    rows = compare(f"{label}, {len(day):,} events, BatchSize 100", day, 100)
    rows += compare(f"busy hour (simulated), {hour_size:,} events, BatchSize 1,000", hour, 1000)
    rate = throughput(hour, 1000, runs=1 if quick else 5)
    rows.append({"name": "handler throughput, in process, in-memory DynamoDB stand-in answering instantly",
                 "figure": rate, "unit": "events/s", "compared_with": ">= 20,000 events/s target"})
    return rows


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
