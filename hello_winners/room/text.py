"""What a participant may type: display names and product text, checked before anything is written.

Names and product text are data everywhere (the pages escape them through the template engine, the
terminal through ``board.printable``), and they are also refused at the door when they carry what only
an attacker types: control characters, bidirectional overrides, or the angle brackets of markup. Each
refusal is one sentence that says what to change. Line breaks and tabs a phone's keyboard adds are
plain spaces, not refusals.

>>> display_name("  Zoë  ")
'Zoë'
>>> name_key("ZOË") == name_key("zoë")
True
"""

from __future__ import annotations

import re
import unicodedata

from hello_winners.room.refusal import Refused

NAME_MAX = 40
# field -> (label, longest); every product field is required except price
PRODUCT_FIELDS = {"name": ("product name", 80), "brand": ("brand", 60), "description": ("description", 500)}
_PRICE = re.compile(r"\d{1,9}(\.\d{1,2})?\Z")
_WHITESPACE = re.compile(r"[\t\r\n]+")
# Bidirectional embeddings, overrides and isolates: they make text read differently from what it is.
_BIDI = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))
# Controls, lone surrogates, private use and unassigned code points: nothing a keyboard types.
_INVISIBLE = {"Cc", "Cs", "Co", "Cn"}


def clean(value: object, label: str, longest: int) -> str:
    """``value`` as safe one-line text: NFC, trimmed, 1 to ``longest`` characters; else Refused (400)."""
    if not isinstance(value, str):
        raise Refused(400, f"The {label} is missing: type one and send the form again.")
    text = unicodedata.normalize("NFC", _WHITESPACE.sub(" ", value)).strip()
    if not text:
        raise Refused(400, f"The {label} is empty: type one and send the form again.")
    if len(text) > longest:
        raise Refused(400, f"The {label} is {len(text)} characters long: keep it to {longest}.")
    for character in text:
        code = ord(character)
        if unicodedata.category(character) in _INVISIBLE or code in _BIDI or code in (0x2028, 0x2029):
            raise Refused(400, f"The {label} holds an invisible or control character (U+{code:04X}): "
                               "type it again with letters, digits and punctuation.")
    if "<" in text or ">" in text:
        raise Refused(400, f"The {label} holds < or >, which the room does not take: leave them out.")
    return text


def display_name(value: object) -> str:
    """A participant's display name: clean text without ``/`` (it ends an event's origin)."""
    name = clean(value, "display name", NAME_MAX)
    if "/" in name:
        raise Refused(400, "The display name holds a /, which would split it in the room's events: leave it out.")
    return name


def name_key(name: str) -> str:
    """What makes two names the same for the room: compatibility-normalised and case-folded."""
    return unicodedata.normalize("NFKC", name).casefold()


def product_fields(form: dict, categories: list[str]) -> dict[str, str]:
    """The product a merchant typed: name, brand, description, category (one of ``categories``) and an
    optional price; exactly what ``events.product_create`` takes, or Refused naming the field to fix."""
    fields = {field: clean(form.get(field), label, longest) for field, (label, longest) in PRODUCT_FIELDS.items()}
    category = form.get("category")
    if category not in categories:
        raise Refused(400, "The category is not one of the shop's: choose one from the list.")
    fields["category"] = category
    price = form.get("price")
    if isinstance(price, str) and price.strip():
        price = price.strip()
        if not _PRICE.match(price):
            raise Refused(400, "The price is not a number like 49.95: type digits, with at most two after the point.")
        fields["price"] = price
    return fields
