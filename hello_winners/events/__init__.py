"""The retail stream's events: schema ids, builders, validation, origins and record encoding.

Every fact on the Hello, Retail! stream is an envelope (``schema``, ``origin``, ``timeOrigin``,
``data``) around a data object whose own ``schema`` says what happened. The JSON Schema files in
``schemas/`` are the definition; this module only selects and runs them (with fastjsonschema, which
is pure Python and ships in the Lambda zip), so a rule lives in exactly one place.

Where the schemas differ from the original's files, and why:

- ``origin`` is any non-empty string (at most 1,024 characters). The original's pattern wanted
  four ``/``-separated parts without ``@``, but its own example events use ``scripts/put-retail-stream-event``
  and e-mail addresses. Who an origin names is decided by ``parse_origin``, as in the original API.
- ``timeOrigin`` (and the egress times) must match an ISO-8601 date-time pattern with seconds and a
  zone, e.g. ``2017-02-21T23:27:56.673Z``. A pattern, not ``format: date-time``, so the check is the
  same in every validator and cheap on the consumer's hot path.
- product ids are 1-256 characters (the Kinesis partition-key limit) instead of digits only.
- ``product/view`` and ``category/view`` (vendor ``com.hello-winners``) are this kit's extensions
  for the extra credit; they do not exist in the original.

Example
-------
>>> event = product_purchase("amzn1.account.AH1", "Erik", "9000001", time="2017-02-21T23:27:56.673Z")
>>> kind(validate(event))
'purchase'
>>> decode(encode(event)) == event
True
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import cache
from json.encoder import c_make_encoder, encode_basestring_ascii
from pathlib import Path

import fastjsonschema

from hello_winners.errors import EventError

__all__ = [
    "CATEGORY_VIEW",
    "ENVELOPE_EGRESS",
    "ENVELOPE_INGRESS",
    "KINDS",
    "KIND_OF_ROLE",
    "MERCHANT",
    "PHOTOGRAPHER",
    "ROLES",
    "ROLE_OF_KIND",
    "PRODUCT_CREATE",
    "PRODUCT_IMAGE",
    "PRODUCT_PURCHASE",
    "PRODUCT_VIEW",
    "ROLE_CUSTOMER",
    "ROLE_MERCHANT",
    "ROLE_PHOTOGRAPHER",
    "category_view",
    "decode",
    "encode",
    "envelope",
    "format_time",
    "kind",
    "origin",
    "parse_origin",
    "partition_key",
    "product_create",
    "product_image",
    "product_purchase",
    "product_view",
    "schema_ids",
    "validate",
]

ENVELOPE_INGRESS = "com.nordstrom/retail-stream-ingress/1-0-0"
ENVELOPE_EGRESS = "com.nordstrom/retail-stream-egress/1-0-0"
PRODUCT_CREATE = "com.nordstrom/product/create/1-0-0"
PRODUCT_IMAGE = "com.nordstrom/product/image/1-0-0"
PRODUCT_PURCHASE = "com.nordstrom/product/purchase/1-0-0"
PRODUCT_VIEW = "com.hello-winners/product/view/1-0-0"  # kit extension for the extra credit
CATEGORY_VIEW = "com.hello-winners/category/view/1-0-0"  # kit extension for the extra credit

#: Short kind of each data schema, in the order the analysis lists them.
KINDS = {
    PRODUCT_CREATE: "create",
    PRODUCT_IMAGE: "image",
    PRODUCT_PURCHASE: "purchase",
    PRODUCT_VIEW: "product-view",
    CATEGORY_VIEW: "category-view",
}
_ENVELOPES = (ENVELOPE_INGRESS, ENVELOPE_EGRESS)

#: The two roles that score, and the event kind whose origin names each: a create names the product's
#: merchant, an image its photographer. (The customer who buys scores nothing.)
MERCHANT = "merchant"
PHOTOGRAPHER = "photographer"
ROLES = (MERCHANT, PHOTOGRAPHER)
ROLE_OF_KIND = {"create": MERCHANT, "image": PHOTOGRAPHER}
KIND_OF_ROLE = {role: kind for kind, role in ROLE_OF_KIND.items()}

WIDGET = "hello-retail"
ROLE_MERCHANT = "product-producer-creator"
ROLE_PHOTOGRAPHER = "product-producer-photographer"
ROLE_CUSTOMER = "product-consumer-customer"

SCHEMA_DIR = Path(__file__).parent / "schemas"


# --- origins -------------------------------------------------------------------------------------

def origin(role: str, unique_id: str, name: str) -> str:
    """The origin string ``hello-retail/<role>/<uniqueId>/<name>`` that names who produced an event."""
    for part in (role, unique_id, name):
        if not isinstance(part, str) or not part or "/" in part:
            raise EventError(f"origin part {part!r} must be a non-empty string without '/'; "
                             "choose another role, id or name.")
    return f"{WIDGET}/{role}/{unique_id}/{name}"


def parse_origin(origin: object) -> tuple[str, str] | None:
    """(unique id, display name) of whoever an origin names, or None when it identifies nobody.

    The original API's rules: split on ``/``; with 3+ parts the id is part 3 and the name part 4
    (part 3 again when part 4 is missing or empty); with exactly 2 parts both are part 2. An empty
    id, fewer than 2 parts, or a value that is not a string identifies nobody.
    """
    if not isinstance(origin, str):
        return None
    parts = origin.split("/", 4)
    n = len(parts)
    if n >= 3:
        uid = parts[2]
        if not uid:
            return None
        return uid, (parts[3] if n > 3 and parts[3] else uid)
    if n == 2 and parts[1]:
        return parts[1], parts[1]
    return None


# --- building events -----------------------------------------------------------------------------

def format_time(time: datetime | str | None = None) -> str:
    """ISO-8601 UTC with milliseconds as the original writes it; None means now, a str passes as is."""
    if time is None:
        time = datetime.now(timezone.utc)
    elif isinstance(time, str):
        return time
    elif not isinstance(time, datetime):
        raise EventError(f"time must be a datetime or an ISO-8601 string, not {type(time).__name__}; "
                         "pass datetime.now(timezone.utc) or leave it out.")
    if time.tzinfo is not None:
        time = time.astimezone(timezone.utc)
    return time.strftime("%Y-%m-%dT%H:%M:%S.") + f"{time.microsecond // 1000:03d}Z"


def envelope(origin: str, data: dict, time: datetime | str | None = None) -> dict:
    """An ingress envelope around ``data`` (which must carry its own ``schema``)."""
    return {"schema": ENVELOPE_INGRESS, "origin": origin, "timeOrigin": format_time(time), "data": data}


def product_create(merchant_id: str, merchant_name: str, product_id: str, *, brand: str, name: str,
                   description: str, category: str, price: str | None = None,
                   time: datetime | str | None = None) -> dict:
    """A merchant adds a product to the catalog."""
    data = {"schema": PRODUCT_CREATE, "id": product_id, "brand": brand, "name": name,
            "description": description, "category": category}
    if price is not None:
        data["price"] = price
    return envelope(origin(ROLE_MERCHANT, merchant_id, merchant_name), data, time)


def product_image(photographer_id: str, photographer_name: str, product_id: str, image: str, *,
                  time: datetime | str | None = None) -> dict:
    """A photographer adds the photo of a product."""
    return envelope(origin(ROLE_PHOTOGRAPHER, photographer_id, photographer_name),
                    {"schema": PRODUCT_IMAGE, "id": product_id, "image": image}, time)


def product_purchase(customer_id: str, customer_name: str, product_id: str, *,
                     time: datetime | str | None = None) -> dict:
    """A customer buys a product: one point for its merchant and one for its photographer."""
    return envelope(origin(ROLE_CUSTOMER, customer_id, customer_name),
                    {"schema": PRODUCT_PURCHASE, "id": product_id}, time)


def product_view(customer_id: str, customer_name: str, product_id: str, *,
                 time: datetime | str | None = None) -> dict:
    """A customer views a product page (kit extension)."""
    return envelope(origin(ROLE_CUSTOMER, customer_id, customer_name),
                    {"schema": PRODUCT_VIEW, "id": product_id}, time)


def category_view(customer_id: str, customer_name: str, category: str, *,
                  time: datetime | str | None = None) -> dict:
    """A customer views a category page (kit extension)."""
    return envelope(origin(ROLE_CUSTOMER, customer_id, customer_name),
                    {"schema": CATEGORY_VIEW, "category": category}, time)


# --- validation ----------------------------------------------------------------------------------

@cache
def _schema_files():
    """Schema id -> file, read from the package so it works from an unpacked Lambda zip."""
    files = {}
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        me = json.loads(path.read_text(encoding="utf-8"))["self"]
        files[f"{me['vendor']}/{me['name']}/{me['version']}"] = path
    return files


def schema_ids() -> list[str]:
    """Every schema id the kit knows, envelopes first."""
    return list(_ENVELOPES) + list(KINDS)


@cache
def _validator(schema_id):
    """The compiled validator of one schema, compiled on first use (a cold start pays only for what it uses)."""
    schema = json.loads(_schema_files()[schema_id].read_text(encoding="utf-8"))
    return fastjsonschema.compile(schema)


def _label(key):
    """A key as it may appear in a one-line message."""
    if isinstance(key, str) and key.isprintable() and 0 < len(key) <= 64:
        return key
    return repr(key)[:64]


def _explain(exc, prefix, instance):
    """(dotted field, what is wrong) from a fastjsonschema error, relative to the envelope."""
    parts = [_label(p) for p in exc.path[1:]]  # path[0] is fastjsonschema's name for the root
    where = ".".join([prefix, *parts] if prefix else parts)
    value = instance
    for p in exc.path[1:]:
        value = value[p] if isinstance(value, dict) else None
    rule = exc.rule
    if rule == "required" and isinstance(value, dict):
        missing = next(k for k in exc.rule_definition if k not in value)
        return _join(where, missing), "is required"
    if rule == "additionalProperties" and isinstance(value, dict):
        allowed = exc.definition.get("properties", {})
        extra = sorted((_label(k) for k in value if k not in allowed), key=str)
        return _join(where, extra[0]), "is not allowed"
    if rule == "type":
        return where or "event", f"must be {_a(exc.rule_definition)}"
    if rule == "const":
        return where, f"must be {exc.rule_definition!r}"
    if rule == "pattern":
        return where, "is not well formed (see the schema's pattern)"
    if rule in ("minLength", "maxLength"):
        lo, hi = exc.definition.get("minLength", 0), exc.definition.get("maxLength")
        return where, f"must be {lo} to {hi} characters long" if hi else "must not be empty"
    return where or "event", f"breaks the rule {rule!r}"


def _join(where, key):
    return f"{where}.{key}" if where else key


def _a(type_name):
    return {"object": "an object", "array": "an array", "string": "a string"}.get(type_name, str(type_name))


def _check(schema_id, instance, prefix):
    try:
        _validator(schema_id)(instance)
    except fastjsonschema.JsonSchemaValueException as exc:
        field, problem = _explain(exc, prefix, instance)
        raise EventError(f"event does not match {schema_id}: {field} {problem}",
                         schema=schema_id, field=field) from None


def validate(event: object) -> dict:
    """Return ``event`` if it matches its envelope and data schemas, else raise EventError.

    The envelope is chosen by the event's ``schema`` (ingress or egress), the data schema by
    ``data.schema``. The error is one line naming the schema and the dotted field, with ``.schema``
    and ``.field`` set. Nothing but EventError ever escapes, whatever ``event`` is.
    """
    try:
        if not isinstance(event, dict):
            raise EventError(f"event must be a JSON object, not {type(event).__name__}", field="event")
        envelope_id = event.get("schema")
        if envelope_id not in _ENVELOPES:
            raise EventError(f"event has unknown envelope schema {_label(envelope_id)}; "
                             f"expected {ENVELOPE_INGRESS} or {ENVELOPE_EGRESS}", field="schema")
        _check(envelope_id, event, "")
        data_id = event["data"]["schema"]
        if data_id not in KINDS:
            raise EventError(f"event has unknown data schema {_label(data_id)}; use one of the ids in "
                             "hello_winners.events.KINDS", schema=envelope_id, field="data.schema")
        _check(data_id, event["data"], "data")
        return event
    except EventError:
        raise
    except Exception as exc:  # noqa: BLE001 - a safety net: only EventError leaves validate()
        raise EventError(f"event cannot be validated ({type(exc).__name__}); "
                         "send a JSON object with schema, origin, timeOrigin and data") from None


def kind(event: dict) -> str:
    """Short kind of a validated event: create, image, purchase, product-view or category-view."""
    try:
        return KINDS[event["data"]["schema"]]
    except (KeyError, TypeError):
        raise EventError("event has no known data schema; validate it first", field="data.schema") from None


# --- records -------------------------------------------------------------------------------------

def partition_key(event: dict) -> str:
    """The Kinesis partition key of an event: its product id (a category view's category), so that every
    event of a product lands on one shard, in order. At most 256 characters, Kinesis's limit."""
    data = event.get("data") if isinstance(event, dict) else None
    key = None
    if isinstance(data, dict):
        key = data.get("id") or data.get("category")
    if not isinstance(key, str) or not key:
        key = str(event.get("origin") or "-") if isinstance(event, dict) else "-"
    return key[:256]



def _compact_encoder():
    """A reusable compact JSON encoder. json.dumps() rebuilds its encoder on every call, which costs
    more than encoding a small event; CPython's C encoder is kept when present (no circular check).
    Non-ASCII characters are escaped: the C encoder's fastest path, and still UTF-8."""
    encoder = json.JSONEncoder(separators=(",", ":"))
    if c_make_encoder is None:
        return encoder.encode
    chunks = c_make_encoder(None, encoder.default, encode_basestring_ascii, None, ":", ",", False, False, True)
    return lambda value: "".join(chunks(value, 0))


_encode_json = _compact_encoder()


def encode(event: dict) -> bytes:
    """Compact JSON bytes (UTF-8), as one Kinesis record holds one event."""
    return _encode_json(event).encode("utf-8")


def decode(data: bytes | bytearray | memoryview) -> dict:
    """The JSON object in a record's bytes (not validated); EventError if not a UTF-8 JSON object."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise EventError(f"record data must be bytes, not {type(data).__name__}; pass the record's Data")
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        raise EventError("record is not UTF-8 text; producers must write UTF-8 JSON") from None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise EventError("record is not valid JSON; producers must write one JSON object per record") from None
    if not isinstance(value, dict):
        raise EventError(f"record holds a JSON {type(value).__name__}, not an object; "
                         "producers must write one JSON object per record")
    return value
