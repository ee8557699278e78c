"""Recorded event logs: one envelope per line (JSONL, gzip when the name ends in .gz), in stream order.

Logs are how a workshop day is replayed and analysed without a live stream. Reading and writing
stream one event at a time, so a busy day of 10,000,000 events never sits in memory as dicts;
``to_frame`` keeps one typed row per event instead.
"""

import gzip
from array import array
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

from hello_winners.errors import EventError
from hello_winners.events import KINDS, decode, encode, parse_origin

__all__ = ["COLUMNS", "read_log", "to_frame", "write_log"]

#: Columns of ``to_frame`` in order.
COLUMNS = ["position", "time", "kind", "productId", "userId", "name", "category"]

_KIND_NAMES = list(KINDS.values())
_KIND_CODES = {schema: code for code, schema in enumerate(KINDS)}
_CHUNK = 1 << 16  # rows whose time strings are parsed at once: bounded memory, vectorised parsing
_BATCH = 1 << 12  # lines joined per write: fewer calls into gzip


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


def read_log(path):
    """Yield the events of a JSONL log in order; EventError names the line that is not a JSON object."""
    path = Path(path)
    if not path.exists():
        raise EventError(f"event log {path} does not exist; check the path or generate it with "
                         "python -m hello_winners.simulator")
    with _open(path, "r") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield decode(line)
                except EventError as exc:
                    raise EventError(f"{path} line {number}: {exc}") from None


def write_log(path, events, *, compresslevel=2):
    """Write events as JSONL (gzip for .gz; level 1-3 keeps big logs fast), streaming; return the count."""
    count, events = 0, iter(events)
    with _open(path, "w", compresslevel) as f:
        while lines := list(map(encode, islice(events, _BATCH))):
            f.write(b"\n".join(lines) + b"\n")
            count += len(lines)
    return count


def to_frame(events):
    """One typed row per event in stream order (see COLUMNS); built in chunks for 10,000,000 events.

    Strings repeat (a few thousand users and products make millions of rows), so each distinct value
    is stored once and rows share it. Events are read, not validated: an event without a known data
    schema raises EventError naming its position. pandas is imported here, not with the module, so
    reading and writing logs works where pandas is not installed (a Lambda zip).
    """
    import numpy as np
    import pandas as pd

    origins = {}  # origin -> (userId, name); most events come from few origins
    shared = {}  # one object per distinct string
    kinds = array("b")
    product_ids, user_ids, names, categories = [], [], [], []
    times, pending = [], []
    position = -1
    for position, event in enumerate(events):
        try:
            data = event["data"]
            code = _KIND_CODES[data["schema"]]
            who = origins.get(event["origin"])
            if who is None:
                who = origins[event["origin"]] = parse_origin(event["origin"]) or (None, None)
            pending.append(event["timeOrigin"])
        except (KeyError, TypeError):
            raise EventError(f"event at position {position} has no known data schema, origin or "
                             "timeOrigin; validate the log first") from None
        kinds.append(code)
        user_ids.append(who[0])
        names.append(who[1])
        product = data.get("id")
        product_ids.append(shared.setdefault(product, product) if product is not None else None)
        category = data.get("category")
        categories.append(shared.setdefault(category, category) if category is not None else None)
        if len(pending) == _CHUNK:
            times.append(_parse_times(pending, position))
            pending = []
    if pending:
        times.append(_parse_times(pending, position))
    return pd.DataFrame({
        "position": np.arange(position + 1, dtype="int64"),
        "time": pd.DatetimeIndex(np.concatenate(times or [np.array([], "datetime64[ns]")]), tz="UTC"),
        "kind": pd.Categorical.from_codes(np.array(kinds, dtype="int8"), categories=_KIND_NAMES),
        "productId": pd.array(product_ids, dtype="string"),
        "userId": pd.array(user_ids, dtype="string"),
        "name": pd.array(names, dtype="string"),
        "category": pd.array(categories, dtype="string"),
    })


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
