"""Whether an event matches its schemas, with one sentence naming the schema and the field when not.

The JSON Schema files in ``schemas/`` are the definition; this module only selects and runs them
(with fastjsonschema, which is pure Python and ships in the Lambda zip), so a rule lives in exactly
one place. Each schema compiles on first use: a cold start pays only for what it validates.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import fastjsonschema

from hello_winners.errors import EventError
from hello_winners.events.kinds import ENVELOPE_EGRESS, ENVELOPE_INGRESS, ENVELOPES, KINDS


SCHEMA_DIR = Path(__file__).parent / "schemas"


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
    return list(ENVELOPES) + list(KINDS)


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
        if envelope_id not in ENVELOPES:
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
