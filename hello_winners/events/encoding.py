"""Events as Kinesis records: the partition key that keeps a product on one shard, and the bytes of a record."""

from __future__ import annotations

import json
from json.encoder import c_make_encoder, encode_basestring_ascii


from hello_winners.errors import EventError


def partition_key(event: dict) -> str:
    """The Kinesis partition key of an event: its product id (a category view's category), so that every
    event of a product lands on one shard, in order. At most 256 characters, Kinesis's limit."""
    if not isinstance(event, dict):
        return "-"
    data = event.get("data")
    key = (data.get("id") or data.get("category")) if isinstance(data, dict) else None
    if not isinstance(key, str) or not key:
        key = str(event.get("origin") or "-")
    return key[:256]


def _compact_encoder():
    """A reusable compact JSON encoder. json.dumps() rebuilds its encoder on every call, which costs
    more than encoding a small event; CPython's C encoder is kept when present (no circular check).
    Non-ASCII characters are escaped: the C encoder's fastest path, and still UTF-8."""
    encoder = json.JSONEncoder(separators=(",", ":"))
    if c_make_encoder is None:
        return encoder.encode
    chunks = c_make_encoder(None, encoder.default, encode_basestring_ascii, None, encoder.key_separator,
                            encoder.item_separator, encoder.sort_keys, encoder.skipkeys, encoder.allow_nan)
    return lambda value: "".join(chunks(value, 0))


_encode_json = _compact_encoder()


def encode(event: dict) -> bytes:
    """Compact JSON bytes (UTF-8), as one Kinesis record holds one event."""
    return _encode_json(event).encode()


# What JSON calls the types json.loads() returns, for messages a producer in any language reads.
_JSON_TYPES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


def decode(data: bytes | bytearray | memoryview) -> dict:
    """The JSON object in a record's bytes (not validated); EventError if not a UTF-8 JSON object."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise EventError(f"record data must be bytes, not {type(data).__name__}; pass the record's Data")
    try:
        text = bytes(data).decode()
    except UnicodeDecodeError:
        raise EventError("record is not UTF-8 text; producers must write UTF-8 JSON") from None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise EventError("record is not valid JSON; producers must write one JSON object per record") from None
    if not isinstance(value, dict):
        raise EventError(f"record holds a JSON {_JSON_TYPES[type(value)]}, not an object; "
                         "producers must write one JSON object per record")
    return value
