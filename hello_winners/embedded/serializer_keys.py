"""moto's answers, serialized with the attribute names of each member remembered, not worked out again.

For every member of every answer, moto's serializer asks six alias providers which attributes of the
Python object may hold it (``XFormedAttributePicker.get_possible_keys``): 6.4 % of the server's busy
time in a drain. With moto's own providers the names depend only on the object's class (its name, its
``Meta`` aliases), the member's name and its shape, whose parent the serializer always sets to the
structure the shape belongs to; so they are remembered per (class, name, shape).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from moto.core import serialize

# Distinct (class, member, shape) triples the kit's answers need: a few hundred. Past this, start again.
MAX_REMEMBERED = 4096


def remembering(get_possible_keys: Callable) -> Callable:
    """``get_possible_keys``, remembering its names per (class, member name, shape) for moto's own providers."""
    remembered: dict[tuple, tuple[str, ...]] = {}

    def possible_keys(picker: Any, context: Any) -> Iterable[str]:
        obj = context.obj
        if picker.alias_providers is not serialize.DEFAULT_ALIAS_PROVIDERS or "Meta" in getattr(obj, "__dict__", ()):
            return get_possible_keys(picker, context)  # other providers, or aliases of the object's own
        key = (type(obj), context.key, context.shape)
        names = remembered.get(key)
        if names is None:
            if len(remembered) >= MAX_REMEMBERED:
                remembered.clear()
            names = remembered[key] = tuple(get_possible_keys(picker, context))
        return names

    return possible_keys


def install() -> Callable[[], None]:
    """Patch moto's picker; returns what undoes it (for tests that compare with moto's own)."""
    original = serialize.XFormedAttributePicker.__dict__["get_possible_keys"]
    serialize.XFormedAttributePicker.get_possible_keys = remembering(original)

    def undo() -> None:
        serialize.XFormedAttributePicker.get_possible_keys = original

    return undo
