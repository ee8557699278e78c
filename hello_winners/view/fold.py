"""Pure core of the winner-view consumer: decode a Kinesis batch, then fold it into planned writes.

No boto3 here. :func:`decode_batch` turns the Lambda Kinesis event into :class:`Record` objects (a
record that can never apply becomes a reject with its reason); :func:`fold` takes those records and
the products' stored state and decides, per product, what changes and, per contributor, which
contributions (sequence number, amount) move their score. :mod:`hello_winners.view.consumer` does the I/O.

A record is identified by (shard id, sequence number). Sequence numbers are compared as integers
here; where DynamoDB must compare them in a condition they are stored as :func:`seq_key` text.

Example
-------
>>> from hello_winners import events
>>> from hello_winners.view.delivery import kinesis_record
>>> raw = [kinesis_record("shardId-000000000000", 1, events.encode(events.product_purchase("c1", "Cy", "p1")))]
>>> shard, records = decode_batch({"Records": raw})
>>> plan = fold(records, {})
>>> plan.products["p1"].purchases, plan.scores
(1, {})
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hello_winners import events
from hello_winners.events import MERCHANT, PHOTOGRAPHER, ROLE_OF_KIND
from hello_winners.errors import EventError

__all__ = [
    "Plan",
    "ProductState",
    "ProductUpdate",
    "Record",
    "ScoreMove",
    "decode_batch",
    "decode_record",
    "fold",
    "marker_attribute",
    "seq_key",
    "seq_of",
]

_VIEWS = ("product-view", "category-view")
REJECT = "reject"
_KEY_BYTES = 2048  # DynamoDB's limit on a partition key: a longer unique id can key no score


def marker_attribute(shard_id: str) -> str:
    """The attribute that holds, on an item, the last sequence number of ``shard_id`` applied to it.

    One per shard: each shard numbers its records itself, so markers of two shards never compare.
    """
    return f"seq@{shard_id}"


def seq_key(seq: int | str) -> str:
    """Sequence number as text whose string order is numeric order: 3-digit length, then the digits.

    Kinesis sequence numbers are decimal strings of up to 129 digits; a length prefix keeps them
    comparable in a DynamoDB condition at 3 bytes of overhead instead of padding every one to 129.
    """
    digits = str(seq)
    return f"{len(digits):03d}{digits}"


def seq_of(key: str) -> int:
    """The sequence number (int) stored by :func:`seq_key`."""
    return int(key[3:])


class Record:
    """One Kinesis record, decoded. ``kind`` is an event kind or ``"reject"`` (then ``reason`` says why).

    ``user``/``name`` are the contributor of a create or image (None when the origin identifies
    nobody, and on a reject); ``payload`` keeps the raw data of a reject (bytes, or the undecodable
    base64 text).
    """

    __slots__ = ("event_id", "kind", "name", "payload", "product", "reason", "seq", "sequence_number", "user")

    def __init__(self, seq: int, sequence_number: str, event_id: str, kind: str, product: str | None = None,
                 user: str | None = None, name: str | None = None, reason: str | None = None,
                 payload: bytes | str | None = None) -> None:
        self.seq = seq
        self.sequence_number = sequence_number
        self.event_id = event_id
        self.kind = kind
        self.product = product
        self.user = user
        self.name = name
        self.reason = reason
        self.payload = payload

    def __repr__(self):
        return f"Record({self.sequence_number}, {self.kind}, {self.product!r}, {self.user!r}, {self.reason!r})"


def decode_batch(event: dict) -> tuple[str | None, list[Record]]:
    """(shard id, records in shard order without repeats) of a Lambda Kinesis event of one shard.

    Lambda sends one shard per invocation; a record repeated inside the batch is kept once.
    """
    raws = event["Records"]
    if not raws:
        return None, []
    shards = {raw["eventID"].rpartition(":")[0] for raw in raws}
    if len(shards) != 1:
        raise ValueError(f"a Lambda Kinesis batch holds one shard, this one holds {len(shards)}")
    unique = {}
    for raw in raws:
        record = decode_record(raw)
        unique.setdefault(record.seq, record)
    return shards.pop(), [unique[s] for s in sorted(unique)]


def decode_record(raw: dict) -> Record:
    """One Lambda Kinesis record as a :class:`Record`; never raises for a bad payload (it is a reject)."""
    kinesis = raw["kinesis"]
    text_seq = kinesis["sequenceNumber"]
    seq, event_id, data = int(text_seq), raw["eventID"], kinesis["data"]
    try:
        payload = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError, TypeError):
        return Record(seq, text_seq, event_id, REJECT, reason="bad-base64: record data is not base64",
                      payload=data)
    try:
        event = events.decode(payload)
    except EventError as error:
        return Record(seq, text_seq, event_id, REJECT, reason=f"not-json: {error}", payload=payload)
    try:
        kind = events.kind(events.validate(event))
    except EventError as error:
        code = "unknown-schema" if _unknown_schema(event, error) else "schema"
        return Record(seq, text_seq, event_id, REJECT, reason=f"{code}: {error}", payload=payload)
    data = event["data"]
    if kind in ROLE_OF_KIND:
        who = events.parse_origin(event["origin"])
        user, name = who if who and len(who[0].encode()) <= _KEY_BYTES else (None, None)
        return Record(seq, text_seq, event_id, kind, data["id"], user, name, payload=payload)
    return Record(seq, text_seq, event_id, kind, data.get("id"))


def _unknown_schema(event, error):
    """Whether ``error`` is about a data schema the kit does not know: a well-formed id (a newer
    version, another vendor's kind), not a missing, empty or non-string one, which is malformed."""
    if error.field != "data.schema":
        return False
    schema = event["data"].get("schema")  # the envelope found data to be an object
    return isinstance(schema, str) and schema != ""


@dataclass
class ProductState:
    """What the Contributions table holds for a product, as read before the fold.

    ``marker`` is the sequence number (int) of the last record of this product applied from the
    batch's shard, None if none was; ``marker_key`` is its stored text, for the write's condition.
    """

    merchant: str | None = None
    merchant_name: str | None = None
    photographer: str | None = None
    photographer_name: str | None = None
    purchases: int = 0
    marker_key: str | None = None

    @property
    def marker(self) -> int | None:
        return None if self.marker_key is None else seq_of(self.marker_key)


@dataclass
class ProductUpdate:
    """The one write a product needs: new contributors, more purchases, the new shard marker.

    ``first`` is the product's first record not yet applied: where Lambda must restart if the
    product's writes fail. ``before`` is the state the fold started from (the write's condition).
    """

    before: ProductState
    first: Record
    last_seq: int
    merchant: tuple | None = None  # (userId, name) newly set
    photographer: tuple | None = None
    purchases: int = 0  # delta

    @property
    def changes(self) -> bool:
        return bool(self.merchant or self.photographer or self.purchases)


@dataclass
class ScoreMove:
    """Contributions to one (userId, role) in a batch: (seq, amount, productId), in seq order."""

    name: str
    first: int
    contributions: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(c[1] for c in self.contributions)


@dataclass
class Plan:
    """The fold's decisions for a batch, and its tallies for the log line."""

    products: dict = field(default_factory=dict)  # productId -> ProductUpdate
    scores: dict = field(default_factory=dict)  # (userId, role) -> ScoreMove
    rejects: list = field(default_factory=list)  # Record (kind "reject", reason set)
    applied: int = 0
    duplicates: int = 0
    ignored: int = 0


def fold(records: Iterable[Record], states: Mapping[str, ProductState]) -> Plan:
    """Fold a shard's records (in order) against the stored product states into a :class:`Plan`.

    Records at or below their product's marker were applied before and are skipped. Then, per
    product in record order: the first create sets the merchant, the first image the photographer,
    each purchase counts; a contributor newly set is credited the purchases made so far, at the seq
    of the record that set them; each later purchase credits every known contributor one point.
    """
    plan = Plan()
    by_product = {}
    for record in records:
        if record.kind == REJECT:
            plan.rejects.append(record)
        elif record.kind in _VIEWS:
            plan.ignored += 1
        else:
            by_product.setdefault(record.product, []).append(record)
    for product, product_records in by_product.items():
        _fold_product(plan, product, product_records, states.get(product) or ProductState())
    for move in plan.scores.values():
        move.contributions.sort()
    return plan


def _fold_product(plan, product, records, state):
    marker = state.marker
    if marker is not None:
        fresh = [r for r in records if r.seq > marker]
        plan.duplicates += len(records) - len(fresh)
        records = fresh
    if not records:
        return
    update = ProductUpdate(before=state, first=records[0], last_seq=records[-1].seq)
    known = {MERCHANT: _known(state.merchant, state.merchant_name),
             PHOTOGRAPHER: _known(state.photographer, state.photographer_name)}
    purchases = state.purchases
    for record in records:
        if record.kind == "purchase":
            purchases += 1
            plan.applied += 1
            for role, who in known.items():
                if who:
                    _credit(plan, who, role, record.seq, 1, product)
            continue
        role = ROLE_OF_KIND[record.kind]
        current = known[role]
        if record.user is None:
            plan.rejects.append(_rejected(record, f"no-origin: the origin of this {record.kind} identifies nobody (or an id over {_KEY_BYTES} bytes)"))
        elif current:
            same = "the same" if current[0] == record.user else "another"
            plan.rejects.append(_rejected(record, (
                f"conflict: product {product} already has {role} {current[0]}; this later "
                f"{record.kind} is by {same} {role} ({record.user}) and changes nothing")))
        else:
            known[role] = (record.user, record.name)
            setattr(update, role, known[role])
            plan.applied += 1
            if purchases:
                _credit(plan, known[role], role, record.seq, purchases, product)
    update.purchases = purchases - state.purchases
    plan.products[product] = update


def _rejected(record, reason):
    """The record as a reject: like every reject it names no contributor (its reason says who it was)."""
    return Record(record.seq, record.sequence_number, record.event_id, REJECT, record.product, reason=reason,
                  payload=record.payload)


def _known(user, name):
    return (user, name or user) if user else None


def _credit(plan, who, role, seq, amount, product):
    key = (who[0], role)
    move = plan.scores.get(key)
    if move is None:
        move = plan.scores[key] = ScoreMove(name=who[1], first=seq)
    elif seq < move.first:  # the name on the contributor's earliest contribution in the batch
        move.name, move.first = who[1], seq
    move.contributions.append((seq, amount, product))
