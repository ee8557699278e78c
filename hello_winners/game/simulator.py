"""The workshop game, played without a room: a seeded, lazy stream of retail events.

It follows the Teachers' Guide. Half the room are merchants (each adds a few products) while the
other half photograph them; then they swap, so everyone is both and nobody photographs their own
products. A few photos come late, during shopping, so some products are bought before anyone
photographed them, and a few products are photographed twice (a conflict the consumer must ignore).
Then everyone shops: page views, category views and purchases, with Zipf-like popularity.

The same parameters and seed give the same events, byte for byte: all randomness comes from one
``random.Random(seed)`` and times from ``start``, never from the clock. Shopping is generated lazily,
a few sessions at a time, so a busy day of 10,000,000 events streams in constant memory.

Example
-------
>>> from hello_winners.game.simulator import simulate
>>> events = list(simulate(seed=7, participants=4, views_per_customer=2, category_views_per_customer=1))
>>> events[0]["data"]["schema"]
'com.nordstrom/product/create/1-0-0'

Command line: ``python -m hello_winners.game.simulator --seed 7 --participants 30 --out day.jsonl``
(``--events 10000000 --out day.jsonl.gz`` for a busy day).
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import string
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from hello_winners.errors import ConfigError, EventError
from hello_winners.events import (
    CATEGORY_VIEW,
    PRODUCT_CREATE,
    PRODUCT_IMAGE,
    PRODUCT_PURCHASE,
    PRODUCT_VIEW,
    ROLE_CUSTOMER,
    ROLE_MERCHANT,
    ROLE_PHOTOGRAPHER,
    envelope,
    origin,
    parse_time,
)

__all__ = ["DEFAULT_START", "main", "simulate"]

DEFAULT_START = datetime(2017, 6, 13, 16, 0, tzinfo=timezone.utc)

# Share of the game's duration each phase starts at: merchants A / photographers B, then the swap,
# then shopping until the end.
_PHASE_1, _PHASE_2, _SHOPPING = 0.0, 0.2, 0.45
_SESSIONS_AT_ONCE = 12  # shoppers whose page views interleave on the stream

FIRST_NAMES = [
    "Erik", "Lauren", "Greg", "Priya", "Sam", "Aiko", "Mateo", "Olivia", "Noah", "Fatima", "Liam",
    "Chloe", "Ravi", "Sofia", "Jonas", "Amara", "Diego", "Hannah", "Kenji", "Maya", "Omar", "Isla",
    "Tariq", "Elena", "Lucas", "Zoe", "Arjun", "Nora", "Felix", "Leila", "Hugo", "Ines", "Kwame",
    "Grace", "Pablo", "Mei", "Anton", "Yara", "Oscar", "Freya", "Malik", "Clara", "Ivan", "Sana",
    "Theo", "Lucia", "Ben", "Aisha", "Marco", "Emma",
]
CATEGORIES = {
    "Shoes": ["Sneaker", "Loafer", "Boot", "Sandal"],
    "Dresses": ["Wrap Dress", "Maxi Dress", "Shirt Dress"],
    "Tops": ["Tee", "Blouse", "Sweater", "Hoodie"],
    "Jeans": ["Skinny Jean", "Straight Jean", "Wide-Leg Jean"],
    "Outerwear": ["Rain Jacket", "Parka", "Trench Coat"],
    "Handbags": ["Tote", "Crossbody Bag", "Backpack"],
    "Accessories": ["Scarf", "Beanie", "Belt", "Sunglasses"],
    "Beauty": ["Lip Balm", "Face Mist", "Hand Cream"],
}
BRANDS = ["Northwind", "Halcyon", "Caspian & Co", "Brightline", "Juniper Row", "Tidewater",
          "Oak Harbor", "Sable", "Meridian", "Lark Street"]
ADJECTIVES = ["Classic", "Everyday", "Cozy", "Vintage", "Recycled", "Lightweight", "Bold", "Soft",
              "Waterproof", "Limited Edition"]
_ID_ALPHABET = string.ascii_uppercase + string.digits


def simulate(seed: int = 0, participants: int = 30, products_per_merchant: int = 3,
             purchases_per_customer: int = 3, views_per_customer: int = 10,
             category_views_per_customer: int = 3, skew: float = 1.0, start: datetime = DEFAULT_START,
             duration: timedelta = timedelta(hours=2), customers: int | None = None,
             late_photos: float = 0.15, retakes: float = 0.05, events: int | None = None) -> Iterator[dict]:
    """An iterator over the game's ingress envelopes in stream order, timeOrigin never decreasing.

    Parameters
    ----------
    seed : the only source of randomness; same arguments, same events.
    participants : the room; half start as merchants, half as photographers, then they swap.
    products_per_merchant, purchases_per_customer : 3 each in the live game.
    views_per_customer, category_views_per_customer : page views per shopper (extra credit).
    skew : Zipf exponent of product popularity (0 = uniform, 1 = classic Zipf).
    start, duration : the game's clock; phases take fixed shares of it, shopping the last 55 %.
    customers : shoppers; the participants plus strangers when larger (default: the participants).
    late_photos, retakes : shares of products photographed only during shopping, and twice.
    events : stop after this many events, adding shoppers to reach it (a busy day); excludes
        ``customers``.
    """
    _check(participants, products_per_merchant, purchases_per_customer, views_per_customer,
           category_views_per_customer, skew, duration, customers, late_photos, retakes, events)
    rng = random.Random(seed)
    room = _people(rng, participants)
    catalog, contributions, late = _production(rng, room, products_per_merchant, start, duration,
                                               late_photos, retakes)
    per_customer = purchases_per_customer + views_per_customer + category_views_per_customer
    if events is not None:
        customers = _customers_for(events, len(contributions) + len(late), per_customer, participants)
    customers = participants if customers is None else customers
    shopping = _shopping(rng, room, catalog, customers, purchases_per_customer, views_per_customer,
                         category_views_per_customer, skew)
    shop_start = _ms(start) + int(_SHOPPING * _ms_of(duration))
    step = (_ms(start) + _ms_of(duration) - shop_start) / max(1, customers * per_customer)
    stream = itertools.chain(
        (event for _, _, event in contributions),
        _timed(rng, shopping, late, shop_start, step),
    )
    return itertools.islice(stream, events) if events is not None else stream


def _customers_for(events, other_events, per_customer, participants):
    """How many shoppers make a day of ``events`` events, given the events that are not shopping."""
    if per_customer == 0:
        return participants
    return max(participants, math.ceil((events - other_events) / per_customer))


def _check(participants, products_per_merchant, purchases, views, category_views, skew, duration,
           customers, late_photos, retakes, events):
    problems = [
        (participants < 2, "participants must be at least 2 (one merchant, one photographer)"),
        (min(products_per_merchant, purchases, views, category_views) < 0, "counts must not be negative"),
        (products_per_merchant < 1, "products_per_merchant must be at least 1"),
        (skew < 0, "skew must not be negative"),
        (duration.total_seconds() <= 0, "duration must be positive"),
        (customers is not None and events is not None, "give customers or events, not both"),
        (customers is not None and customers < 0, "customers must not be negative"),
        (not (0 <= late_photos <= 1 and 0 <= retakes <= 1), "late_photos and retakes are shares in 0..1"),
        (events is not None and events < 0, "events must not be negative"),
    ]
    for bad, message in problems:
        if bad:
            raise ConfigError(f"simulate(): {message}; change that argument.")


def _people(rng, count):
    """(unique id, first name) of each participant: distinct ids, names distinct while they last."""
    ids, seen = [], set()
    while len(ids) < count:
        uid = _account_id(rng)
        if uid not in seen:
            seen.add(uid)
            ids.append(uid)
    if count <= len(FIRST_NAMES):
        names = rng.sample(FIRST_NAMES, count)
    else:
        names = [rng.choice(FIRST_NAMES) for _ in range(count)]
    return list(zip(ids, names))


def _account_id(rng):
    """An id shaped like the original's Login with Amazon ids."""
    return "amzn1.account.AH" + "".join(rng.choices(_ID_ALPHABET, k=26))


def _production(rng, room, per_merchant, start, duration, late_share, retake_share):
    """The two production phases: (catalog, contribution events sorted by time, late photos by time).

    The catalog lists (product id, category), the most popular first; events come as (ms,
    tie-breaker, event). Late photos are of popular products and land in the middle of shopping
    (40-80 % of it), so some products are bought before anyone photographed them.
    """
    half = (len(room) + 1) // 2
    order = rng.sample(room, len(room))
    groups = (order[:half], order[half:])
    total = len(room) * per_merchant
    product_ids = [str(i) for i in rng.sample(range(1_000_000, 10_000_000), total)]
    t0, span = _ms(start), _ms_of(duration)
    phase_ms = int((_PHASE_2 - _PHASE_1) * span)
    shop_start = t0 + int(_SHOPPING * span)
    shop_span = span - int(_SHOPPING * span)
    catalog, contributions, late = [], [], []
    ids = iter(product_ids)
    late_count = round(late_share * total)
    popularity = rng.sample(range(total), total)  # product number -> rank, 0 the favourite
    popular = [number for number in range(total) if popularity[number] < max(late_count, total // 3)]
    late_products = set(rng.sample(popular, late_count))
    retake_products = set(rng.sample(range(total), round(retake_share * total)))
    serial = itertools.count()
    for phase, (merchants, photographers) in enumerate((groups, groups[::-1])):
        phase_start = t0 + int((_PHASE_1, _PHASE_2)[phase] * span)
        cameras = itertools.cycle(rng.sample(photographers, len(photographers)))
        for merchant in merchants:
            for _ in range(per_merchant):
                number = len(catalog)
                pid = next(ids)
                category = rng.choice(list(CATEGORIES))
                created = phase_start + rng.randrange(max(1, phase_ms // 2))
                contributions.append((created, next(serial), _create(rng, merchant, pid, category, created)))
                catalog.append((pid, category))
                photographer = next(cameras)
                if number in late_products:
                    shot = shop_start + int((0.4 + 0.4 * rng.random()) * shop_span)
                    late.append((shot, next(serial), _image(rng, photographer, pid, shot)))
                    continue
                shot = created + phase_ms // 8 + rng.randrange(max(1, 3 * phase_ms // 8))
                contributions.append((shot, next(serial), _image(rng, photographer, pid, shot)))
                if number in retake_products:
                    others = [p for p in room if p not in (merchant, photographer)]
                    if others:
                        again = shot + 1 + rng.randrange(max(1, phase_ms // 4))
                        contributions.append((again, next(serial), _image(rng, rng.choice(others), pid, again)))
    contributions.sort(key=lambda item: item[:2])
    late.sort(key=lambda item: item[:2])
    ranked = [None] * total
    for number, product in enumerate(catalog):
        ranked[popularity[number]] = product
    return ranked, contributions, late


def _create(rng, merchant, pid, category, ms):
    noun = rng.choice(CATEGORIES[category])
    brand, adjective = rng.choice(BRANDS), rng.choice(ADJECTIVES)
    data = {"schema": PRODUCT_CREATE, "id": pid, "brand": brand, "name": f"{adjective} {noun}",
            "description": f"{adjective} {noun.lower()} by {brand}.", "category": category,
            "price": f"{rng.randrange(9, 400)}.{rng.choice(['00', '50', '95', '99'])}"}
    return envelope(origin(ROLE_MERCHANT, *merchant), data, _iso(ms))


def _image(rng, photographer, pid, ms):
    data = {"schema": PRODUCT_IMAGE, "id": pid, "image": f"https://images.example.com/{pid}/IMG_{rng.randrange(10000):04d}.jpg"}
    return envelope(origin(ROLE_PHOTOGRAPHER, *photographer), data, _iso(ms))


def _shopping(rng, room, catalog, customers, purchases, views, category_views, skew):
    """Yield (origin, data) of every shopper's session, a few sessions interleaved at a time."""
    cumulative = list(itertools.accumulate(1 / (rank ** skew) for rank in range(1, len(catalog) + 1)))
    shoppers = itertools.chain(room, (_stranger(rng) for _ in itertools.count()))
    random = rng.random  # int(random() * n) is several times cheaper than randrange(n)
    active = []
    for _ in range(min(customers, _SESSIONS_AT_ONCE)):
        active.append(_session(rng, next(shoppers), catalog, cumulative, purchases, views, category_views))
    started = len(active)
    while active:
        pick = int(random() * len(active))
        who, session = active[pick]
        if session:
            yield who, session.pop()
        elif started < customers:
            active[pick] = _session(rng, next(shoppers), catalog, cumulative, purchases, views, category_views)
            started += 1
        else:
            active[pick] = active[-1]
            active.pop()


def _stranger(rng):
    return _account_id(rng), rng.choice(FIRST_NAMES)


def _session(rng, shopper, ranked, cumulative, purchases, views, category_views):
    """(origin, data objects in reverse order) of one shopper's visit: category views lead to
    product views, and a purchase follows its product's view."""
    seen = rng.choices(ranked, cum_weights=cumulative, k=views)
    bought = set(rng.sample(range(views), min(purchases, views)))
    browsed = set(rng.sample(range(views), min(category_views, views)))
    steps = []
    for position, (pid, category) in enumerate(seen):
        if position in browsed:
            steps.append({"schema": CATEGORY_VIEW, "category": category})
        steps.append({"schema": PRODUCT_VIEW, "id": pid})
        if position in bought:
            steps.append({"schema": PRODUCT_PURCHASE, "id": pid})
    for pid, _ in rng.choices(ranked, cum_weights=cumulative, k=max(0, purchases - views)):
        steps.append({"schema": PRODUCT_PURCHASE, "id": pid})
    for _, category in rng.choices(ranked, cum_weights=cumulative, k=max(0, category_views - views)):
        steps.append({"schema": CATEGORY_VIEW, "category": category})
    steps.reverse()
    return origin(ROLE_CUSTOMER, *shopper), steps


def _timed(rng, shopping, late, shop_start, step):
    """Shopping envelopes, the k-th at shop_start + (k + jitter) * step, with late photos slotted in."""
    random = rng.random
    pending = iter(late)
    head = next(pending, None)
    last, prefix = None, ""
    for k, (who, data) in enumerate(shopping):
        ms = shop_start + int((k + 0.5 * random()) * step)
        while head is not None and head[0] <= ms:
            yield head[2]
            head = next(pending, None)
        seconds, millis = divmod(ms, 1000)
        if seconds != last:
            last, prefix = seconds, _second(seconds)
        yield envelope(who, data, f"{prefix}.{millis:03d}Z")
    while head is not None:
        yield head[2]
        head = next(pending, None)


def _ms(moment):
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def _ms_of(duration):
    return int(duration.total_seconds() * 1000)


def _iso(ms):
    """ISO-8601 UTC with milliseconds, as the original writes timeOrigin."""
    seconds, millis = divmod(ms, 1000)
    return f"{_second(seconds)}.{millis:03d}Z"


def _second(seconds):
    """The date and time part of a Unix time, cheaper than strftime for each new second."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, rest = divmod(rest, 60)
    return f"{_day(days)}T{hours:02d}:{minutes:02d}:{rest:02d}"


@lru_cache(maxsize=16)
def _day(days):
    return (datetime(1970, 1, 1) + timedelta(days=days)).strftime("%Y-%m-%d")


def _start(text):
    """--start as argparse wants its types to fail: one line under the usage, not a traceback."""
    try:
        return parse_time(text)
    except EventError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: list[str] | None = None) -> int:
    """Write a simulated day to a JSONL log (gzip when --out ends in .gz)."""
    from hello_winners.game.eventlog import write_log

    parser = argparse.ArgumentParser(prog="python -m hello_winners.game.simulator", description=main.__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--participants", type=int, default=30)
    parser.add_argument("--products-per-merchant", type=int, default=3)
    parser.add_argument("--purchases", type=int, default=3, help="purchases per customer")
    parser.add_argument("--views", type=int, default=10, help="product page views per customer")
    parser.add_argument("--category-views", type=int, default=3, help="category page views per customer")
    parser.add_argument("--skew", type=float, default=1.0, help="Zipf exponent of popularity")
    parser.add_argument("--start", type=_start, default=DEFAULT_START,
                        help="ISO-8601 start of the game (default %(default)s)")
    parser.add_argument("--hours", type=float, default=2.0, help="duration of the game in hours")
    parser.add_argument("--customers", type=int, help="shoppers (default: the participants)")
    parser.add_argument("--events", type=int, help="stop at this many events, adding shoppers to reach it")
    parser.add_argument("--out", required=True, help="output .jsonl or .jsonl.gz")
    args = parser.parse_args(argv)
    stream = simulate(
        seed=args.seed, participants=args.participants, products_per_merchant=args.products_per_merchant,
        purchases_per_customer=args.purchases, views_per_customer=args.views,
        category_views_per_customer=args.category_views, skew=args.skew, start=args.start,
        duration=timedelta(hours=args.hours), customers=args.customers, events=args.events,
    )
    count = write_log(args.out, stream)
    print(f"wrote {count} events to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
