"""DynamoDB's capacity pricing rules, in one place, applied to low-level item images ({"attr": {"S": "..."}}).

The consumer's log line, the write-cost benchmark and the cost model all price with these rules, so
every design is priced the same way: a write request unit covers 1 KB of item, a read request unit
4 KB (1 KB = 1,024 bytes, as on the pricing pages).
"""

import math

__all__ = [
    "KB",
    "READ_UNIT_BYTES",
    "WRITE_UNIT_BYTES",
    "index_write_units",
    "item_size",
    "score_update_units",
    "write_units",
]

KB = 1024
WRITE_UNIT_BYTES = KB  # one write request unit: an item of up to 1 KB
READ_UNIT_BYTES = 4 * KB  # one (strongly consistent) read request unit: an item of up to 4 KB


def item_size(item: dict) -> int:
    """Bytes DynamoDB bills for an item: attribute names plus values (UTF-8 strings, packed numbers)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value):
    (kind, text), = value.items()
    if kind == "S":
        return len(text.encode())
    if kind == "N":
        digits = text.lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    raise ValueError(f"item_size prices strings and numbers only, not {kind}")


def write_units(before: dict | None, after: dict | None) -> int:
    """Write request units of one write: ceil(larger of the item images / 1 KB), at least 1.

    A conditional write that fails is billed the same way on the existing item (``after`` = None).
    """
    return _units(max(item_size(before or {}), item_size(after or {})))


def score_update_units(after: dict, added: int) -> int:
    """Units of an update that added ``added`` to a Scores item whose new image is ``after``.

    The same rules as :func:`write_units` plus :func:`index_write_units` on ScoresByRole, sizing the
    item once (the consumer prices every score it moves): a new item is one write and one index put;
    otherwise the score, the index's range key, changed: a write, an index delete and an index put.
    """
    size, score = item_size(after), int(after["score"]["N"])
    if score == added:
        return 2 * _units(size)
    before = size - _value_size(after["score"]) + _value_size({"N": str(score - added)})
    return max(_units(before), _units(size)) + _units(before) + _units(size)


def _units(size):
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def index_write_units(before: dict | None, after: dict | None, index_key: tuple = ("role", "score")) -> int:
    """Write request units a base-table write costs in a projection-ALL index keyed on ``index_key``.

    A new entry is one put; a change of an index key attribute is a delete of the old entry plus a put
    of the new one; any other change of an indexed item is one update; an item absent from the index
    (an index key attribute missing) before and after costs nothing.
    """
    def indexed(item):
        return item is not None and all(a in item for a in index_key)

    if not indexed(before):
        return math.ceil(item_size(after) / WRITE_UNIT_BYTES) if indexed(after) else 0
    if not indexed(after):
        return math.ceil(item_size(before) / WRITE_UNIT_BYTES)
    if any(before[a] != after[a] for a in index_key):
        return math.ceil(item_size(before) / WRITE_UNIT_BYTES) + math.ceil(item_size(after) / WRITE_UNIT_BYTES)
    return math.ceil(item_size(after) / WRITE_UNIT_BYTES) if before != after else 0
