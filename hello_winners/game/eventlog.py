"""Recorded event logs: one envelope per line (JSONL, gzip when the name ends in .gz), in stream order.

Logs are how a workshop day is replayed and analysed without a live stream. Reading and writing
stream one event at a time, so a busy day of 10,000,000 events never sits in memory as dicts;
``to_frame`` keeps one typed row per event instead.

``to_frame`` columns (see COLUMNS), one row per event in stream order:

- ``position`` int64, 0-based stream order; ``time`` datetime64[ns, UTC], from timeOrigin;
- ``kind`` category: create, image, purchase, product-view, category-view (in that order);
- ``productId``, ``userId`` (the origin's unique id), ``name`` (the origin's display name) and
  ``category`` (create events and category views): category columns whose categories are strings in
  sorted order, null where the event has none (a category view's product, an origin that identifies
  nobody, a purchase's category). A few thousand distinct strings make millions of rows, so each row
  holds an integer code; sorting or comparing these columns behaves as it does for strings.
"""

from __future__ import annotations

import gzip
import json
from array import array
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

from hello_winners.errors import EventError
from hello_winners.events import KINDS, decode, encode, parse_origin

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COLUMNS", "read_log", "to_frame", "write_log"]

#: Columns of ``to_frame`` in order.
COLUMNS = ["position", "time", "kind", "productId", "userId", "name", "category"]

_KIND_NAMES = list(KINDS.values())
_KIND_CODES = {schema: code for code, schema in enumerate(KINDS)}
_CHUNK = 1 << 16  # rows whose time strings are parsed at once: bounded memory, vectorised parsing
_BATCH = 1 << 12  # lines joined per write: fewer calls into gzip
_BLOCK = 1 << 20  # bytes read at once: whole lines are decoded from text a block at a time


@contextmanager
def _open(path, mode, compresslevel=2):
    """A binary file, gzip-compressed when the name ends in .gz (no name or time in the header)."""
    with open(path, mode + "b") as raw:
        if Path(path).suffix != ".gz":
            yield raw
            return
        with gzip.GzipFile(filename="", mode=mode + "b", fileobj=raw, compresslevel=compresslevel,
                           mtime=0) as zipped:
            yield zipped


def read_log(path: str | PathLike[str]) -> Iterator[dict]:
    """Yield the events of a JSONL log in order; EventError names the line that is not a JSON object.

    Lines are read a block at a time and decoded from text with one shared JSON decoder; a line that
    is not plainly one JSON object (a decoding error, spaces around it, a blank line) goes through
    ``events.decode``, which accepts or names it exactly as it would on its own.
    """
    path = _regular_file(Path(path))
    raw_decode = json.JSONDecoder().raw_decode
    number = 0
    with _open(path, "r") as f:
        for block in _blocks(f):
            try:
                lines = block.decode("utf-8").split("\n")
            except UnicodeDecodeError:
                lines = block.split(b"\n")  # each line goes through decode, which names the bad one
            for line in lines:
                number += 1
                try:
                    event, end = raw_decode(line)
                    if end == len(line) and type(event) is dict:
                        yield event
                        continue
                except (ValueError, TypeError, RecursionError):
                    pass
                if line.strip():
                    yield _decode_line(line, path, number)


def _regular_file(path):
    """The path, when it names a file to read; else EventError saying what it names instead."""
    if not path.exists():
        raise EventError(f"event log {path} does not exist; check the path or generate it with "
                         "python -m hello_winners.game.simulator")
    if path.is_dir():
        raise EventError(f"event log {path} is a directory; pass the path of a JSONL file of events in it")
    if not path.is_file():
        raise EventError(f"event log {path} is not a regular file (a device, pipe or socket); "
                         "pass the path of a JSONL file of events")
    return path


def _blocks(f):
    """Whole lines of a binary file, about _BLOCK bytes at a time, without their final newline."""
    rest = b""
    while block := f.read(_BLOCK):
        block = rest + block
        cut = block.rfind(b"\n")
        if cut < 0:
            rest = block
            continue
        rest = block[cut + 1:]
        yield block[:cut]
    if rest:
        yield rest


def _decode_line(line, path, number):
    try:
        return decode(line.encode("utf-8") if isinstance(line, str) else line)
    except EventError as exc:
        raise EventError(f"{path} line {number}: {exc}") from None


def write_log(path: str | PathLike[str], events: Iterable[dict], *, compresslevel: int = 2) -> int:
    """Write events as JSONL (gzip for .gz; level 1-3 keeps big logs fast), streaming; return the count."""
    count, events = 0, iter(events)
    with _open(path, "w", compresslevel) as f:
        while lines := list(map(encode, islice(events, _BATCH))):
            f.write(b"\n".join(lines) + b"\n")
            count += len(lines)
    return count


class _Codes(dict):
    """Integer code of each distinct value, in order of first appearance; None is -1 (null)."""

    def __init__(self):
        super().__init__({None: -1})

    def __missing__(self, value):
        code = self[value] = len(self) - 1
        return code

    def values_in_code_order(self):
        return list(self)[1:]


def to_frame(events: Iterable[dict]) -> pd.DataFrame:
    """One typed row per event in stream order (see the module docstring); fit for 10,000,000 events.

    Each distinct string gets an integer code as events arrive and rows keep only codes, so no
    column ever holds millions of Python strings; each distinct origin is parsed once. Events are
    read, not validated: an event without a known data schema raises EventError naming its position.
    pandas is imported here, not with the module, so reading and writing logs works where pandas is
    not installed (a Lambda zip).
    """
    import numpy as np
    import pandas as pd

    kind_codes, origins, products, categories = _KIND_CODES, _Codes(), _Codes(), _Codes()
    kinds, senders, product_codes, category_codes = array("b"), array("i"), array("i"), array("i")
    times, pending = [], []
    position = -1
    for position, event in enumerate(events):
        try:
            data = event["data"]
            kinds.append(kind_codes[data["schema"]])
            senders.append(origins[event["origin"]])
            pending.append(event["timeOrigin"])
            product_codes.append(products[data.get("id")])
            category_codes.append(categories[data.get("category")])
        except (KeyError, TypeError, AttributeError):
            raise EventError(f"event at position {position} has no known data schema, origin or "
                             "timeOrigin, or an id that is not a string; validate the log first") from None
        if len(pending) == _CHUNK:
            times.append(_parse_times(pending, position))
            pending = []
    if pending:
        times.append(_parse_times(pending, position))
    users, names = _Codes(), _Codes()
    who = [parse_origin(origin) or (None, None) for origin in origins.values_in_code_order()]
    senders = np.frombuffer(senders, dtype=np.int32)
    return pd.DataFrame({
        "position": np.arange(position + 1, dtype="int64"),
        "time": pd.DatetimeIndex(np.concatenate(times or [np.array([], "datetime64[ns]")]), tz="UTC"),
        "kind": pd.Categorical.from_codes(np.array(kinds, dtype="int8"), categories=_KIND_NAMES),
        "productId": _categorical(np.frombuffer(product_codes, dtype=np.int32), products),
        "userId": _categorical(_through([users[uid] for uid, _ in who], senders), users),
        "name": _categorical(_through([names[name] for _, name in who], senders), names),
        "category": _categorical(np.frombuffer(category_codes, dtype=np.int32), categories),
    })


def _through(table, codes):
    """Look codes up in a table (code -1 stays -1): the user or name code of each row's origin code."""
    import numpy as np

    return np.array([*table, -1], dtype=np.int32)[codes]


def _categorical(codes, distinct):
    """A categorical column of codes into ``distinct``'s values, re-coded so categories are sorted strings."""
    import numpy as np
    import pandas as pd

    recode, categories = pd.factorize(pd.Index(distinct.values_in_code_order(), dtype="string"), sort=True)
    recoded = np.append(recode, -1).astype(np.int32)[codes]  # code -1 (null) picks the appended -1
    return pd.Categorical.from_codes(recoded, dtype=pd.CategoricalDtype(categories))


def _parse_times(strings, last_position):
    """UTC nanosecond timestamps (naive numpy values) of a chunk of ISO-8601 strings."""
    import pandas as pd

    try:
        parsed = pd.to_datetime(pd.Index(strings), utc=True, format="ISO8601")
    except (ValueError, TypeError):
        first = last_position - len(strings) + 1
        raise EventError(f"events at positions {first}..{last_position} hold a timeOrigin that is not "
                         "ISO-8601; validate the log first") from None
    return parsed.tz_convert(None).as_unit("ns").to_numpy()
