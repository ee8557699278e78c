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
    """(dotted field, what is wrong) from a fastjsonschema error; ``prefix`` is where ``instance`` sits in the event.

    Any rule gets its sentence, not only the ones today's schemas use: a schema file is data.
    """
    inside = exc.path[1:]  # path[0] is fastjsonschema's name for the root
    field = [*prefix, *map(_label, inside)]
    value = instance
    for key in inside:  # to the value that broke the rule (fastjsonschema writes an array's indexes as text)
        value = value[key] if isinstance(value, dict) else value[int(key)]
    rule, definition = exc.rule, exc.rule_definition
    if rule == "required":
        field.append(_label(next(k for k in definition if k not in value)))
        problem = "is required"
    elif rule == "additionalProperties":
        allowed = exc.definition.get("properties", {})
        field.append(min(_label(k) for k in value if k not in allowed))
        problem = "is not allowed"
    elif rule == "type":
        problem = f"must be {_a(definition)}"
    elif rule == "const":
        problem = f"must be {definition!r}"
    elif rule == "pattern":
        problem = "is not well formed (see the schema's pattern)"
    elif rule in ("minLength", "maxLength"):
        problem = _length(exc.definition.get("minLength"), exc.definition.get("maxLength"))
    else:
        problem = f"breaks the rule {rule!r}"
    return ".".join(field) or "event", problem


def _length(lo, hi):
    if hi is None:
        return "must not be empty" if lo == 1 else f"must be at least {lo} characters long"
    return f"must be {lo} to {hi} characters long" if lo else f"must be at most {hi} characters long"


# A JSON Schema type as a message says it.
_A = {"object": "an object", "array": "an array", "string": "a string", "number": "a number",
      "integer": "an integer", "boolean": "true or false", "null": "null"}


def _a(types):
    return " or ".join(_A[t] for t in types) if isinstance(types, list) else _A[types]


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
        _check(envelope_id, event, ())
        data_id = event["data"]["schema"]
        if data_id not in KINDS:
            raise EventError(f"event has unknown data schema {_label(data_id)}; use one of the ids in "
                             "hello_winners.events.KINDS", schema=envelope_id, field="data.schema")
        _check(data_id, event["data"], ("data",))
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
